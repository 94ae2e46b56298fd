//! Masking secret values in text a job prints: the rules every host applies, so the runner,
//! the component and the Python plugin hide the same forms of the same values.
