//! The daemon's BuildKit build-cache records: listed, and pruned one by one.
//!
//! Why a rewritten request: API 1.41 (Docker 20.10) lists records in `GET /system/df` under
//! `BuildCache`, with a single `Parent`, but bollard's `df()` models a newer answer
//! (`BuildCacheUsage`, `Parents`) and returns nothing for it. bollard has no raw request, so a
//! clone of the client rewrites one streaming request's path to `/system/df` (a request
//! modifier, which bollard offers for exactly such adjustments) and the JSON is read here. This
//! keeps every transport bollard speaks (unix, TCP with TLS, ssh) working unchanged.

use std::collections::HashMap;

use bollard::Docker;
use bollard::query_parameters::PruneBuildOptions;
use futures_util::StreamExt;
use serde::Deserialize;

use super::Engine;
use crate::error::EngineError;

/// A marker image name whose export request the rewriting client turns into `/system/df`.
const DF_MARKER: &str = "stagebench-system-df";

/// One build-cache record.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheRecord {
    /// The record's ID, as `/build/prune` filters take it.
    pub id: String,
    /// The record it builds on, if any: it cannot be pruned before this one is.
    pub parent: Option<String>,
    /// Whether a running build holds it (a prune skips it).
    pub in_use: bool,
    /// When the daemon created it, in seconds since the Unix epoch on the daemon's clock;
    /// `None` when the answer has no time it can read.
    pub created_s: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct DiskUsage {
    #[serde(rename = "BuildCache", default)]
    build_cache: Option<Vec<RawRecord>>,
}

#[derive(Debug, Deserialize)]
struct RawRecord {
    #[serde(rename = "ID")]
    id: String,
    /// API 1.41 and older.
    #[serde(rename = "Parent", default)]
    parent: Option<String>,
    /// API 1.42 and newer.
    #[serde(rename = "Parents", default)]
    parents: Option<Vec<String>>,
    #[serde(rename = "InUse", default)]
    in_use: bool,
    #[serde(rename = "CreatedAt", default)]
    created_at: String,
}

/// The client that sends `GET /system/df?type=build-cache` where `export_image(DF_MARKER)`
/// would send `GET /images/<DF_MARKER>/get`.
pub(super) fn df_client(docker: &Docker) -> Docker {
    docker.clone().with_request_modifier(|mut request| {
        let uri = request.uri().clone();
        let wanted = format!("/images/{DF_MARKER}/get");
        let prefix = uri
            .path_and_query()
            .and_then(|p| p.path().strip_suffix(&wanted))
            .map(str::to_string);
        if let Some(prefix) = prefix {
            let mut parts = uri.into_parts();
            if let Ok(rewritten) = format!("{prefix}/system/df?type=build-cache").parse() {
                parts.path_and_query = Some(rewritten);
                if let Ok(uri) = http::Uri::from_parts(parts) {
                    *request.uri_mut() = uri;
                }
            }
        }
        request
    })
}

/// How long a daemon busy with another disk-usage request is waited for.
const BUSY_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);
/// How often it is asked again meanwhile.
const BUSY_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Whether the daemon refused a disk-usage request because it is answering another.
fn is_busy(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError { message, .. }
            if message.contains("disk usage operation is already running")
    )
}

/// An RFC 3339 time as seconds since the Unix epoch.
fn epoch_seconds(text: &str) -> Option<f64> {
    let time =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(time.unix_timestamp_nanos() as f64 / 1e9)
}

impl Engine {
    /// Every build-cache record the daemon holds.
    pub async fn list_build_cache(&self) -> Result<Vec<CacheRecord>, EngineError> {
        let started = std::time::Instant::now();
        let body = loop {
            match self.disk_usage_body().await {
                // A daemon of API 1.41 answers one disk-usage request at a time and refuses
                // the others (`docker system df`, another run's listing): wait for it.
                Err(error) if is_busy(&error) && started.elapsed() < BUSY_PATIENCE => {
                    tokio::time::sleep(BUSY_POLL).await;
                }
                Err(error) => return Err(self.request_error("list the build cache", &error)),
                Ok(body) => break body,
            }
        };
        let usage: DiskUsage = serde_json::from_slice(&body).map_err(|e| EngineError::Request {
            endpoint: self.endpoint.display_url(),
            action: "list the build cache".to_string(),
            reason: format!("the answer of /system/df is not the JSON expected: {e}"),
        })?;
        Ok(usage
            .build_cache
            .unwrap_or_default()
            .into_iter()
            .map(|raw| CacheRecord {
                parent: raw
                    .parent
                    .filter(|p| !p.is_empty())
                    .or_else(|| raw.parents.and_then(|p| p.into_iter().next())),
                id: raw.id,
                in_use: raw.in_use,
                created_s: epoch_seconds(&raw.created_at),
            })
            .collect())
    }

    /// The raw answer of `GET /system/df`.
    async fn disk_usage_body(&self) -> Result<Vec<u8>, bollard::errors::Error> {
        let mut body = Vec::new();
        let mut stream = self.df_docker.export_image(DF_MARKER);
        while let Some(chunk) = stream.next().await {
            body.extend_from_slice(&chunk?);
        }
        Ok(body)
    }

    /// Prunes the one record `id` (it must have no child and no build may hold it); returns
    /// whether the daemon deleted it.
    pub async fn prune_build_cache_record(&self, id: &str) -> Result<bool, EngineError> {
        // Without `all`: with it, a daemon of API 1.41 ignores the filter's intent and keeps
        // everything; one id per request, since it refuses more than one value per filter.
        let options = PruneBuildOptions {
            filters: Some(HashMap::from([("id".to_string(), vec![id.to_string()])])),
            ..Default::default()
        };
        let response = self
            .docker
            .prune_build(Some(options))
            .await
            .map_err(|e| self.request_error(format!("prune build-cache record {id}"), &e))?;
        Ok(response
            .caches_deleted
            .is_some_and(|deleted| deleted.iter().any(|d| d == id)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn record_times_are_read_to_the_nanosecond() {
        let seconds = super::epoch_seconds("2026-12-04T16:49:35.885778673Z").unwrap();
        assert!(
            (seconds - 1_796_402_975.885_778_7).abs() < 1e-6,
            "{seconds}"
        );
        assert_eq!(super::epoch_seconds(""), None);
    }
}
