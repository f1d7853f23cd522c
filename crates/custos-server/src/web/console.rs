//! `/console`: the staff console.

use std::sync::Arc;

use axum::Router;

use crate::{AppState, Backend};

pub fn routes<S: Backend>() -> Router<Arc<AppState<S>>> {
    Router::new()
}
