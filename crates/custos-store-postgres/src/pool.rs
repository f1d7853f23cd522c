//! A small blocking connection pool: idle connections in a `Mutex<Vec<_>>`,
//! at most `max_connections` open, callers waiting on a `Condvar`.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use custos_store::{Result, StoreError};
use postgres::{Client, Statement};

use crate::PostgresOptions;
use crate::codec::db;

/// An open connection and the statements prepared on it.
pub(crate) struct Conn {
    pub(crate) client: Client,
    pub(crate) statements: HashMap<&'static str, Statement>,
}

struct State {
    idle: Vec<Conn>,
    open: usize,
}

pub(crate) struct Pool {
    config: crate::tls::Target,
    max: usize,
    acquire_timeout: Duration,
    state: Mutex<State>,
    freed: Condvar,
}

impl Pool {
    pub(crate) fn new(mut config: crate::tls::Target, options: &PostgresOptions) -> Self {
        config.config.connect_timeout(options.connect_timeout);
        if config.config.get_application_name().is_none() {
            config.config.application_name("custos");
        }
        Pool {
            config,
            max: options.max_connections.max(1),
            acquire_timeout: options.acquire_timeout,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    /// Where the pool connects, without credentials.
    pub(crate) fn describe(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                postgres::config::Host::Tcp(name) => name.clone(),
                postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        format!(
            "{}/{}",
            hosts.join(","),
            self.config.config.get_dbname().unwrap_or("")
        )
    }

    /// An idle connection, a new one if fewer than the maximum are open, or the
    /// first one freed within the acquire timeout.
    pub(crate) fn get(&self) -> Result<Pooled<'_>> {
        let state = lock(&self.state);
        let (mut state, _) = self
            .freed
            .wait_timeout_while(state, self.acquire_timeout, |s| {
                s.idle.is_empty() && s.open >= self.max
            })
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(conn) = state.idle.pop() {
            return Ok(Pooled {
                pool: self,
                conn: Some(conn),
            });
        }
        if state.open >= self.max {
            return Err(StoreError::Unavailable(format!(
                "all {} database connections stayed busy",
                self.max
            )));
        }
        state.open += 1;
        drop(state);
        match self.config.connect() {
            Ok(client) => Ok(Pooled {
                pool: self,
                conn: Some(Conn {
                    client,
                    statements: HashMap::new(),
                }),
            }),
            Err(e) => {
                lock(&self.state).open -= 1;
                self.freed.notify_one();
                Err(db(e))
            }
        }
    }

    fn put(&self, conn: Conn) {
        let mut state = lock(&self.state);
        if conn.client.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(conn);
        }
        drop(state);
        self.freed.notify_one();
    }
}

/// A panic while the pool's state was locked leaves it consistent: every
/// update under the lock is a single push, pop or counter change.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A connection on loan from the pool, returned when dropped. A connection in
/// the middle of a transaction is never returned: the `postgres::Transaction`
/// borrowing it rolls back when dropped, before this is.
pub(crate) struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
}

impl Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.put(conn);
        }
    }
}
