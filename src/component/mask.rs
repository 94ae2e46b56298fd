//! `vdk:secrets/mask`: the core's [`crate::mask::Masker`] as a WIT resource, glue only.

use std::cell::RefCell;

use super::Component;
use super::exports::vdk::secrets::mask::{Guest, GuestMasker};
use crate::mask::Masker;

impl Guest for Component {
    type Masker = MaskerResource;
}

/// One run's masker; the resource's methods borrow it, so it changes through a cell.
pub struct MaskerResource(RefCell<Masker>);

impl GuestMasker for MaskerResource {
    fn new() -> Self {
        MaskerResource(RefCell::new(Masker::new()))
    }

    fn add(&self, value: String) {
        self.0.borrow_mut().add_json(&value);
    }

    fn mask(&self, text: String) -> String {
        self.0.borrow().mask(&text)
    }

    fn mask_partial(&self, text: String) -> (String, String) {
        self.0.borrow().mask_partial(&text)
    }
}
