//! Configuration: the `*Spec` types of the YAML file, `${VAR}` interpolation,
//! validation that reports every error with file, line and column, the
//! embedded defaults and the JSON Schema.
//!
//! Invariants: no I/O beyond reading the file it is asked to load; a spec
//! that passes [`load_str`] is safe for `sy-proxy`'s compile step to trust
//! for references (every route's upstream exists, every regex compiles).

mod ai;
mod load;
mod spec;
mod units;

pub use ai::*;
pub use load::{ConfigError, ConfigErrors, defaults, interpolate, load_file, load_str, json_schema, DEFAULT_CONFIG_YAML};
pub use spec::*;
pub use units::{ByteSize, Cidr, DurationSpec, parse_duration, parse_size};
