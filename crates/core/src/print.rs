//! Print view models (application form, receipt). Being written: see issue 5.
