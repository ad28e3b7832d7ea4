//! Errors of the simulator and its sinks.

/// What can go wrong when configuring a simulation or delivering its events.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A configuration field is out of range or malformed.
    #[error("simulation setting `{field}`: {message}")]
    Config {
        /// The field, such as `faults.shrink`.
        field: String,
        /// What is wrong and what would be accepted.
        message: String,
    },
    /// A scenario was asked about a location, item or supplier the retailer does not have.
    #[error("scenario input `{field}`: {message}")]
    Scenario {
        /// The argument, such as `store`.
        field: String,
        /// What is wrong and what would be accepted.
        message: String,
    },
    /// The server address or key given to a sink is unusable.
    #[error("server sink `{field}`: {message}")]
    Sink {
        /// `base_url` or `api_key`.
        field: String,
        /// What is wrong and what would be accepted.
        message: String,
    },
    /// The server refused a batch for good (an answer that a retry cannot change).
    #[error("the server refused the batch with status {status}: {body}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// The server could not be reached or kept failing after every retry.
    #[error("delivery failed after {attempts} attempts: {message}")]
    Delivery {
        /// How many attempts were made.
        attempts: u32,
        /// The last problem seen.
        message: String,
    },
    /// Writing events out failed.
    #[error("writing events: {0}")]
    Io(#[from] std::io::Error),
}

impl SimError {
    pub(crate) fn config(field: &str, message: String) -> Self {
        SimError::Config { field: field.to_owned(), message }
    }

    pub(crate) fn scenario(field: &str, message: String) -> Self {
        SimError::Scenario { field: field.to_owned(), message }
    }

    pub(crate) fn sink(field: &str, message: String) -> Self {
        SimError::Sink { field: field.to_owned(), message }
    }
}
