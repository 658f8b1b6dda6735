//! `GET /v1/models` objects.

use serde::{Deserialize, Serialize};

/// One model, as `GET /v1/models/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelObject {
    /// The name clients pass as `model`.
    pub id: String,
    /// Always `model`.
    pub object: String,
    /// Unix seconds when the model was made available.
    pub created: u64,
    /// Who owns the model.
    pub owned_by: String,
}

impl ModelObject {
    /// A model object.
    pub fn new(id: impl Into<String>, created: u64, owned_by: impl Into<String>) -> ModelObject {
        ModelObject {
            id: id.into(),
            object: "model".to_owned(),
            created,
            owned_by: owned_by.into(),
        }
    }
}

/// The list `GET /v1/models` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelList {
    /// Always `list`.
    pub object: String,
    /// The models.
    pub data: Vec<ModelObject>,
}

impl ModelList {
    /// A list object.
    pub fn new(data: Vec<ModelObject>) -> ModelList {
        ModelList {
            object: "list".to_owned(),
            data,
        }
    }
}
