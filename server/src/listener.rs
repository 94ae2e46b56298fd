//! The HTTP listener: accepting connections within limits, timeouts for slow or silent
//! clients, and a shutdown that ends within a grace period.
