//! The lake's storage: one `object_store` rooted at a local folder (the default) or at
//! `s3://bucket/prefix` (MinIO, s3s, AWS), with the brief's zones below it.
//!
//! Every key handed to [`Lake`] is relative to the lake root (`bronze/_manifest.json`); the
//! engine gets absolute URLs from [`Lake::url`].

use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{LakeError, Result};

/// Connection settings for an S3-compatible lake. Unset fields fall back to the standard
/// `AWS_*` environment variables (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_DEFAULT_REGION`, `AWS_ALLOW_HTTP`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Options {
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub region: Option<String>,
    pub allow_http: bool,
}

/// A lake root and the object store that serves it.
#[derive(Debug, Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    /// Absolute URL of the root, always ending in `/`.
    root_url: Url,
    /// URL of the store itself (`file:///` or `s3://bucket`), for registering it on an engine.
    store_url: Url,
    /// Key prefix of the root inside the store.
    prefix: Path,
    /// The folder of a local lake, whose emptied sub-folders are removed after deletes.
    local_root: Option<std::path::PathBuf>,
    /// The S3 endpoint in use (given, or `AWS_ENDPOINT`), named in every storage error.
    endpoint: Option<String>,
}

/// How long an S3 request may keep failing before the error is reported: long enough for a
/// brief network hiccup, short enough that a stopped server or bad credentials fail fast.
fn s3_retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 4,
        retry_timeout: std::time::Duration::from_secs(30),
    }
}

impl Lake {
    /// Opens a lake at a local folder (created if missing) or an `s3://bucket/prefix` URL.
    pub fn open(location: &str, s3: &S3Options) -> Result<Self> {
        let bad = |reason: String| LakeError::BadLocation {
            location: location.to_string(),
            reason,
        };
        if let Some(rest) = location.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(bad("no bucket name after s3://".into()));
            }
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_retry(s3_retry())
                .with_client_options(
                    ClientOptions::new().with_connect_timeout(std::time::Duration::from_secs(5)),
                );
            if let Some(v) = &s3.endpoint {
                builder = builder.with_endpoint(v);
            }
            if let Some(v) = &s3.access_key_id {
                builder = builder.with_access_key_id(v);
            }
            if let Some(v) = &s3.secret_access_key {
                builder = builder.with_secret_access_key(v);
            }
            if let Some(v) = &s3.region {
                builder = builder.with_region(v);
            }
            // An endpoint written http://… says plain HTTP is meant (MinIO, test servers).
            let http_endpoint = builder
                .get_config_value(&object_store::aws::AmazonS3ConfigKey::Endpoint)
                .is_some_and(|e| e.starts_with("http://"));
            if s3.allow_http || http_endpoint {
                builder = builder.with_allow_http(true);
            }
            let endpoint = builder
                .get_config_value(&object_store::aws::AmazonS3ConfigKey::Endpoint)
                .filter(|e| !e.is_empty());
            let store = builder.build().map_err(|e| bad(e.to_string()))?;
            let prefix = Path::from(prefix.trim_matches('/'));
            let root = format!("s3://{bucket}/{}", with_slash(prefix.as_ref()));
            Ok(Self {
                store: Arc::new(store),
                root_url: Url::parse(&root).map_err(|e| bad(e.to_string()))?,
                store_url: Url::parse(&format!("s3://{bucket}")).map_err(|e| bad(e.to_string()))?,
                prefix,
                local_root: None,
                endpoint,
            })
        } else if location.contains("://") && !location.starts_with("file://") {
            Err(bad(
                "expected a local folder, file:///path or s3://bucket/prefix".into(),
            ))
        } else {
            let folder = location.strip_prefix("file://").unwrap_or(location);
            std::fs::create_dir_all(folder).map_err(|e| bad(e.to_string()))?;
            let absolute = std::fs::canonicalize(folder).map_err(|e| bad(e.to_string()))?;
            let store =
                LocalFileSystem::new_with_prefix(&absolute).map_err(|e| bad(e.to_string()))?;
            let root_url = Url::from_directory_path(&absolute)
                .map_err(|_| bad("not an absolute folder path".into()))?;
            Ok(Self {
                store: Arc::new(store),
                root_url,
                store_url: Url::parse("file:///").map_err(|e| bad(e.to_string()))?,
                prefix: Path::default(),
                local_root: Some(absolute),
                endpoint: None,
            })
        }
    }

    /// Checks that the store answers (server up, bucket there, credentials accepted) with one
    /// listing of the root, so a misconfigured lake fails before any work starts.
    pub async fn probe(&self) -> Result<()> {
        self.store
            .list_with_delimiter(Some(&self.prefix))
            .await
            .map(|_| ())
            .map_err(|e| self.storage_error("", e))
    }

    /// The S3 endpoint of an S3 lake (None: AWS's default, or a local lake).
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// A storage error naming the object and, on S3, the endpoint.
    pub fn storage_error(&self, key: &str, source: object_store::Error) -> LakeError {
        let location = match (&self.endpoint, self.is_s3()) {
            (Some(endpoint), _) => format!("{} (S3 endpoint {endpoint})", self.url(key)),
            (None, true) => format!("{} (AWS S3)", self.url(key)),
            (None, false) => self.url(key),
        };
        LakeError::storage(location, source)
    }

    pub fn is_s3(&self) -> bool {
        self.root_url.scheme() == "s3"
    }

    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    pub fn store_url(&self) -> &Url {
        &self.store_url
    }

    /// The root, as shown to users.
    pub fn root(&self) -> &str {
        self.root_url.as_str()
    }

    /// Absolute URL of a key, for the engine (`file:///…/silver/runs/…/` or `s3://…`).
    pub fn url(&self, key: &str) -> String {
        format!("{}{}", self.root_url, key.trim_start_matches('/'))
    }

    fn path(&self, key: &str) -> Path {
        let key = key.trim_matches('/');
        if self.prefix.as_ref().is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        }
    }

    /// Key of a store path relative to the root.
    fn relative(&self, path: &Path) -> String {
        let full = path.as_ref();
        let prefix = self.prefix.as_ref();
        if prefix.is_empty() {
            full.to_string()
        } else {
            full.strip_prefix(prefix)
                .unwrap_or(full)
                .trim_start_matches('/')
                .to_string()
        }
    }

    pub async fn put(&self, key: &str, bytes: impl Into<Bytes>) -> Result<()> {
        self.store
            .put(&self.path(key), PutPayload::from_bytes(bytes.into()))
            .await
            .map_err(|e| self.storage_error(key, e))?;
        Ok(())
    }

    /// Reads an object, or `None` when it does not exist.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        match self.store.get(&self.path(key)).await {
            Ok(found) => Ok(Some(
                found
                    .bytes()
                    .await
                    .map_err(|e| self.storage_error(key, e))?,
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.storage_error(key, e)),
        }
    }

    pub async fn put_json<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        let text = serde_json::to_vec_pretty(value).map_err(|e| LakeError::BadManifest {
            location: self.url(key),
            reason: e.to_string(),
        })?;
        self.put(key, text).await
    }

    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.get(key).await? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| LakeError::BadManifest {
                        location: self.url(key),
                        reason: e.to_string(),
                    })
            }
        }
    }

    /// Every object under a key prefix, with keys relative to the root.
    pub async fn list(&self, key_prefix: &str) -> Result<Vec<(String, ObjectMeta)>> {
        let prefix = self.path(key_prefix);
        let metas: Vec<ObjectMeta> = self
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| self.storage_error(key_prefix, e))?;
        Ok(metas
            .into_iter()
            .map(|m| (self.relative(&m.location), m))
            .collect())
    }

    /// Names of the immediate sub-folders of a key prefix.
    pub async fn list_dirs(&self, key_prefix: &str) -> Result<Vec<String>> {
        let prefix = self.path(key_prefix);
        let listed = self
            .store
            .list_with_delimiter(Some(&prefix))
            .await
            .map_err(|e| self.storage_error(key_prefix, e))?;
        Ok(listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .collect())
    }

    /// Deletes every object under a folder-like key prefix. On a local lake the folder goes
    /// too, with what a killed writer may have left in it that is not an object yet (an upload's
    /// temporary `name#N` file, which listings do not show).
    pub async fn delete_prefix(&self, key_prefix: &str) -> Result<()> {
        for (key, _) in self.list(key_prefix).await? {
            self.delete(&key).await?;
        }
        if let Some(root) = &self.local_root {
            let folder = root.join(key_prefix.trim_matches('/'));
            match std::fs::remove_dir_all(&folder) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(LakeError::Io {
                        path: folder,
                        source: e,
                    });
                }
            }
        }
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.storage_error(key, e)),
        }
    }

    /// A streaming writer for a large object (multipart on S3); the object appears on `shutdown`.
    pub fn writer(&self, key: &str) -> object_store::buffered::BufWriter {
        object_store::buffered::BufWriter::new(self.store.clone(), self.path(key))
    }

    /// The store path of a key, for writers that take one (Parquet).
    pub fn store_path(&self, key: &str) -> Path {
        self.path(key)
    }
}

fn with_slash(prefix: &str) -> String {
    if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_lake_round_trip() {
        let dir = tempfile::tempdir().expect("tmp");
        let lake = Lake::open(
            dir.path().to_str().expect("utf-8 path"),
            &S3Options::default(),
        )
        .expect("opens");
        assert!(lake.url("silver/x/").starts_with("file:///"));
        assert!(lake.url("silver/x/").ends_with("/silver/x/"));
        assert_eq!(lake.get("nothing").await.expect("get"), None);
        lake.put("a/b/c.txt", "hello").await.expect("put");
        lake.put("a/d/e.txt", "world").await.expect("put");
        assert_eq!(
            lake.get("a/b/c.txt").await.expect("get").as_deref(),
            Some(&b"hello"[..])
        );
        let mut dirs = lake.list_dirs("a").await.expect("dirs");
        dirs.sort();
        assert_eq!(dirs, vec!["b", "d"]);
        lake.delete_prefix("a/b").await.expect("delete");
        let keys: Vec<String> = lake
            .list("a")
            .await
            .expect("list")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, vec!["a/d/e.txt"]);
    }

    #[test]
    fn bad_locations_are_named() {
        let err = Lake::open("ftp://x/y", &S3Options::default()).expect_err("refused");
        assert!(err.to_string().contains("ftp://x/y"));
        let err = Lake::open("s3://", &S3Options::default()).expect_err("refused");
        assert!(err.to_string().contains("bucket"));
    }
}
