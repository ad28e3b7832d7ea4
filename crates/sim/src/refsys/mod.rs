//! Reference ERP, WMS and POS/order-management systems.
//!
//! Each system is an HTTP service with its own SQLite file (WAL), its own OpenAPI 3.1 document
//! and the behaviour Backroom's connectors meet in a real retailer's systems of record:
//!
//! - requests are validated against master data (unknown item, location, supplier or document →
//!   422 with a JSON error naming the field);
//! - every `POST`/`PUT` honours `Idempotency-Key`: the first successful answer is stored in the
//!   same transaction as the change it made, a repeated key returns the stored answer, and a
//!   repeated key with a different body is refused with 422 `idempotency_key_reused`;
//! - faults (latency, slow requests, 503 errors, outage windows) can be injected at start and at
//!   runtime through `PUT /admin/faults`; a faulted request never changes state.
//!
//! ```no_run
//! # async fn demo() -> Result<(), backroom_sim::refsys::RefsysError> {
//! use backroom_sim::refsys::{Faults, RefSystem, System};
//! let erp = RefSystem::start(System::Erp, ":memory:", "127.0.0.1:0".parse().unwrap(), Faults::default()).await?;
//! println!("ERP listening on {}/api", erp.url());
//! erp.stop().await;
//! # Ok(())
//! # }
//! ```

mod api;
mod db;
mod erp;
mod faults;
mod http;
mod master;
mod pos;
mod wms;

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::{Faults, Outage};
pub use master::{MasterBudget, MasterData, MasterItem, MasterLocation, MasterStock, MasterSupplier};

/// Which system of record a reference system stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum System {
    /// Enterprise resource planning: purchasing, payables, book stock, transfers, ledger.
    Erp,
    /// Warehouse management: distribution-centre stock, reservations, picking and shipping.
    Wms,
    /// Store and commerce: till transactions, returns, prices, customer orders, notifications.
    Pos,
}

impl System {
    /// The short name used in URLs, configuration and logs: `erp`, `wms` or `pos`.
    pub fn as_str(self) -> &'static str {
        match self {
            System::Erp => "erp",
            System::Wms => "wms",
            System::Pos => "pos",
        }
    }

    /// A human-readable title for documents such as the OpenAPI `info.title`.
    pub fn title(self) -> &'static str {
        match self {
            System::Erp => "Reference ERP",
            System::Wms => "Reference WMS",
            System::Pos => "Reference POS and order management",
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for System {
    type Err = RefsysError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "erp" => Ok(System::Erp),
            "wms" => Ok(System::Wms),
            "pos" => Ok(System::Pos),
            _ => Err(RefsysError::UnknownSystem(s.to_string())),
        }
    }
}

/// What can go wrong starting or configuring a reference system.
#[derive(Debug, thiserror::Error)]
pub enum RefsysError {
    /// The system name is not one of `erp`, `wms`, `pos`.
    #[error("unknown reference system `{0}`: expected one of erp, wms, pos")]
    UnknownSystem(String),
    /// The fault configuration is out of range.
    #[error("invalid faults: {field}: {message}")]
    InvalidFaults {
        /// The offending field of [`Faults`].
        field: &'static str,
        /// What was wrong and what would be accepted.
        message: String,
    },
    /// The SQLite database could not be opened or its schema created.
    #[error("database {database}: {source}")]
    Database {
        /// The database path (or `:memory:`).
        database: String,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The requested address.
        addr: SocketAddr,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// A running reference system: an HTTP server over its own SQLite database.
pub struct RefSystem {
    system: System,
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<()>,
    pool: sqlx::SqlitePool,
}

impl fmt::Debug for RefSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefSystem").field("system", &self.system).field("addr", &self.addr).finish()
    }
}

impl RefSystem {
    /// Opens (creating if needed) the SQLite file and binds the listener. `database` may be a path;
    /// ":memory:" for a throwaway system.
    pub async fn start(
        system: System,
        database: &str,
        addr: SocketAddr,
        faults: Faults,
    ) -> Result<RefSystem, RefsysError> {
        faults.validate().map_err(|(field, message)| RefsysError::InvalidFaults { field, message })?;
        let pool = db::open(system, database)
            .await
            .map_err(|source| RefsysError::Database { database: database.to_string(), source })?;
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|source| RefsysError::Listen { addr, source })?;
        let addr = listener.local_addr().map_err(|source| RefsysError::Listen { addr, source })?;
        let state = http::AppState {
            system,
            pool: pool.clone(),
            writer: Arc::new(tokio::sync::Mutex::new(())),
            faults: Arc::new(std::sync::Mutex::new(faults::FaultState::new(faults))),
        };
        let app = api::router(state);
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "reference system stopped with an error");
            }
        });
        tracing::info!(%system, %addr, "reference system is serving");
        Ok(RefSystem { system, addr, shutdown, server, pool })
    }

    /// The base URL, `http://127.0.0.1:PORT`; the API is under `/api`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the system listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Which system this is.
    pub fn system(&self) -> System {
        self.system
    }

    /// Stops accepting requests, waits for those in flight and closes the database.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.server.await;
        self.pool.close().await;
    }
}

/// The system's OpenAPI 3.1 document, as JSON.
pub fn openapi(system: System) -> serde_json::Value {
    api::openapi_value(system)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_names_round_trip() {
        for system in [System::Erp, System::Wms, System::Pos] {
            assert_eq!(system.to_string().parse::<System>().unwrap(), system);
        }
        assert_eq!(" WMS ".parse::<System>().unwrap(), System::Wms);
        assert!(matches!("crm".parse::<System>(), Err(RefsysError::UnknownSystem(name)) if name == "crm"));
    }
}
