//! robots.txt (RFC 9309) with a per-host cache of up to 24 h.
