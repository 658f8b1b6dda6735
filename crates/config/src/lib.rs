//! Configuration: the `*Spec` types of the YAML file, `${VAR}` interpolation,
//! validation that reports every error with file, line, column and key path,
//! the embedded defaults and the JSON Schema.
//!
//! Invariants: no I/O beyond reading the file it is asked to load; a spec
//! that passes [`load_str`] is safe for `sy-proxy`'s compile step to trust
//! for references (every route's upstream exists, every model's provider
//! exists, every regex compiles, every template parses).
//!
//! Loading runs in three stages, each reporting all it can before the next:
//! [`interpolate()`] (`${VAR}`), structural parsing with serde (types, unknown
//! keys), then [`validate()`] (cross-references and value rules). Positions of
//! semantic errors come from a second, position-aware YAML pass
//! (`positions.rs`) and are mapped back through interpolation.

mod ai;
mod error;
mod interpolate;
mod load;
mod positions;
mod price;
mod spec;
mod units;
mod validate;

pub use ai::*;
pub use error::{ConfigError, ConfigErrors};
pub use interpolate::{InterpolationError, interpolate};
pub use load::{DEFAULT_CONFIG_YAML, defaults, json_schema, load_file, load_str, to_yaml};
pub use price::{Usd, UsdPerMillion, parse_usd};
pub use spec::*;
pub use units::{ByteSize, Cidr, DurationSpec, parse_duration, parse_size};
pub use validate::{Violation, validate};
