//! Identity-document rules (domain notes §4). Being written: see issue 4.
