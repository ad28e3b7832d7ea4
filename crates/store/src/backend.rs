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

            pub(crate) async fn list_users(&self) -> $crate::Result<Vec<$crate::User>> {
                let text = format!("SELECT {} FROM users ORDER BY login", $crate::users::USER_COLUMNS);
                let rows = sqlx::query(sqlx::AssertSqlSafe(text)).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::users::user_row).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn user_credentials(
                &self,
                login: &str,
            ) -> $crate::Result<Option<($crate::User, String)>> {
                let mut s = $crate::query::Sql::default();
                s.bind(
                    &format!("SELECT {}, password_hash FROM users WHERE login = ?", $crate::users::USER_COLUMNS),
                    $crate::query::Param::Text(login.to_owned()),
                );
                let row = Self::query(s).fetch_optional(&self.pool).await?;
                match row {
                    Some(r) => {
                        let user = $crate::users::user_row(&r)?;
                        let hash = $crate::rows::RowExt::text(&r, "password_hash")?;
                        Ok(Some((user, hash)))
                    }
                    None => Ok(None),
                }
            }

            pub(crate) async fn session_user(&self, hash: &str, now: i64) -> $crate::Result<Option<$crate::User>> {
                let mut s = $crate::query::Sql::default();
                s.push("SELECT u.id, u.login, u.display_name, u.grants, u.created_at, u.disabled_at \
                        FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE ");
                s.bind("s.hash = ?", $crate::query::Param::Text(hash.to_owned()));
                s.bind(" AND s.expires_at > ? AND u.disabled_at IS NULL", $crate::query::Param::Int(now));
                let row = Self::query(s).fetch_optional(&self.pool).await?;
                Ok(row.as_ref().map($crate::users::user_row).transpose()?)
            }

            pub(crate) async fn audit_entries(
                &self,
                q: &$crate::audit::AuditQuery,
            ) -> $crate::Result<Vec<$crate::audit::AuditRecord>> {
                let rows = Self::query($crate::audit::select_sql(q)).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::audit::audit_row).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn webhook_receipt_exists(&self, source: &str, signature: &str) -> $crate::Result<bool> {
                let row = Self::query($crate::webhooks::receipt_sql(source, signature)).fetch_one(&self.pool).await?;
                Ok($crate::rows::RowExt::int(&row, "n")? > 0)
            }

            pub(crate) async fn audit_count(&self, after_seq: i64, kinds: Option<&[String]>) -> $crate::Result<i64> {
                let row = Self::query($crate::webhooks::audit_count_sql(after_seq, kinds)).fetch_one(&self.pool).await?;
                Ok($crate::rows::RowExt::int(&row, "n")?)
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
