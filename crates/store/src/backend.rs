//! Reads and key writes, written once and expanded for each backend.

/// Expands the read side and the key table operations for a backend whose struct has a `pool`
/// field and an associated `fn sql(&Sql) -> String` giving the dialect's placeholders.
macro_rules! common_operations {
    ($store:ty, $db:ty) => {
        impl $store {
            fn query(sql: $crate::query::Sql) -> sqlx::query::Query<'static, $db, <$db as sqlx::Database>::Arguments> {
                let text = Self::sql(&sql);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(text));
                for p in sql.params {
                    q = match p {
                        $crate::query::Param::Int(v) => q.bind(v),
                        $crate::query::Param::OptInt(v) => q.bind(v),
                        $crate::query::Param::Text(v) => q.bind(v),
                        $crate::query::Param::OptText(v) => q.bind(v),
                    };
                }
                q
            }

            pub(crate) async fn events(
                &self,
                q: &$crate::query::EventQuery,
            ) -> $crate::Result<Vec<backroom_model::EventEnvelope>> {
                let rows = Self::query($crate::query::events_sql(q)).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::rows::event).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn last_seq(&self) -> $crate::Result<i64> {
                let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM events").fetch_one(&self.pool).await?;
                Ok($crate::rows::RowExt::int(&row, "seq")?)
            }

            pub(crate) async fn stock(
                &self,
                q: &$crate::query::StockQuery,
            ) -> $crate::Result<Vec<$crate::StockPosition>> {
                let rows = Self::query($crate::query::stock_sql(q)).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::rows::stock).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn daily_sales(
                &self,
                q: &$crate::query::SalesQuery,
            ) -> $crate::Result<Vec<$crate::DailySales>> {
                let rows = Self::query($crate::query::sales_sql(q)).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::rows::sales).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn insert_key(&self, k: &$crate::ApiKey, hash: &str) -> $crate::Result<()> {
                use $crate::query::Param;
                let mut s = $crate::query::Sql::default();
                s.push("INSERT INTO api_keys (id, name, prefix, hash, roles, scopes, created_at) VALUES (");
                s.bind("?", Param::Text(k.id.clone()));
                s.bind(", ?", Param::Text(k.name.clone()));
                s.bind(", ?", Param::Text(k.prefix.clone()));
                s.bind(", ?", Param::Text(hash.to_owned()));
                s.bind(", ?", Param::Text(serde_json::to_string(&k.roles).unwrap_or_default()));
                s.bind(", ?", Param::Text(serde_json::to_string(&k.scopes).unwrap_or_default()));
                s.bind(", ?)", Param::Int(k.created_at.timestamp_micros()));
                match Self::query(s).execute(&self.pool).await {
                    Ok(_) => Ok(()),
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        Err($crate::StoreError::Conflict("a key with this secret already exists".to_owned()))
                    }
                    Err(e) => Err(e.into()),
                }
            }

            pub(crate) async fn list_keys(&self) -> $crate::Result<Vec<$crate::ApiKey>> {
                let rows = sqlx::query(
                    "SELECT id, name, prefix, roles, scopes, created_at, revoked_at FROM api_keys ORDER BY created_at DESC, id DESC",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.iter().map($crate::rows::api_key).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn key_count(&self) -> $crate::Result<i64> {
                let row = sqlx::query("SELECT COUNT(*) AS n FROM api_keys").fetch_one(&self.pool).await?;
                Ok($crate::rows::RowExt::int(&row, "n")?)
            }

            pub(crate) async fn key_by_hash(&self, hash: &str) -> $crate::Result<Option<$crate::ApiKey>> {
                let mut s = $crate::query::Sql::default();
                s.bind(
                    "SELECT id, name, prefix, roles, scopes, created_at, revoked_at FROM api_keys \
                     WHERE hash = ? AND revoked_at IS NULL",
                    $crate::query::Param::Text(hash.to_owned()),
                );
                let row = Self::query(s).fetch_optional(&self.pool).await?;
                Ok(row.as_ref().map($crate::rows::api_key).transpose()?)
            }

            pub(crate) async fn revoke_key(&self, id_or_name: &str, now: i64) -> $crate::Result<$crate::ApiKey> {
                let active: Vec<$crate::ApiKey> = self
                    .list_keys()
                    .await?
                    .into_iter()
                    .filter(|k| k.revoked_at.is_none() && (k.id == id_or_name || k.name == id_or_name))
                    .collect();
                let key = match active.as_slice() {
                    [] => {
                        return Err($crate::StoreError::NotFound(format!(
                            "no active key has the id or name {id_or_name:?}; `backroom keys list` shows them"
                        )));
                    }
                    [k] => k.clone(),
                    _ => {
                        return Err($crate::StoreError::Conflict(format!(
                            "{} active keys are named {id_or_name:?}: revoke one by its id",
                            active.len()
                        )));
                    }
                };
                let mut s = $crate::query::Sql::default();
                s.bind("UPDATE api_keys SET revoked_at = ?", $crate::query::Param::Int(now));
                s.bind(" WHERE id = ?", $crate::query::Param::Text(key.id.clone()));
                Self::query(s).execute(&self.pool).await?;
                Ok($crate::ApiKey { revoked_at: Some($crate::keys::micros_to_time(now)), ..key })
            }

            pub(crate) async fn ping(&self) -> $crate::Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            pub(crate) async fn close(&self) {
                self.pool.close().await;
            }

        }
    };
}

pub(crate) use common_operations;
