//! PDF rendering of the application form and receipt. Being written: see issue 5.
