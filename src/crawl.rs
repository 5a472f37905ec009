//! One pass of one source: fetch → parse → match → identify → store.
