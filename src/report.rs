//! Reports (SPEC §5): counts per kind for a window, references, per-source
//! health; rendered as text, JSON or CSV.
