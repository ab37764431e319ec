//! Being written by the lead.
