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
    BackoffConfig, ClientOptions, ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions,
    PutPayload, RetryConfig,
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

    /// Copies every object under `from` to the same key under `to` (both key prefixes ending
    /// with `/`); the store copies (no download on S3). Returns the objects copied.
    pub async fn copy_prefix(&self, from: &str, to: &str) -> Result<usize> {
        let objects = self.list(from).await?;
        for (key, _) in &objects {
            let rest = key.strip_prefix(from).unwrap_or(key);
            let target = format!("{to}{rest}");
            self.store
                .copy(&self.path(key), &self.path(&target))
                .await
                .map_err(|e| self.storage_error(&target, e))?;
        }
        Ok(objects.len())
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

    /// Reads an object with its version (what [`Lake::update_if_unchanged`] compares), or
    /// `None` when it does not exist.
    pub async fn get_versioned(&self, key: &str) -> Result<Option<(Bytes, ObjectVersion)>> {
        match self.store.get(&self.path(key)).await {
            Ok(found) => {
                let version = ObjectVersion {
                    e_tag: found.meta.e_tag.clone(),
                    version: found.meta.version.clone(),
                };
                let bytes = found
                    .bytes()
                    .await
                    .map_err(|e| self.storage_error(key, e))?;
                Ok(Some((bytes, version)))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.storage_error(key, e)),
        }
    }

    /// Creates an object only if none exists under `key` (`PutMode::Create`: a hard link on a
    /// local folder, `If-None-Match: *` on S3). Returns its version, or `None` when the key
    /// was taken.
    pub async fn create_if_absent(
        &self,
        key: &str,
        bytes: impl Into<Bytes>,
    ) -> Result<Option<ObjectVersion>> {
        let options = PutOptions::from(PutMode::Create);
        match self
            .store
            .put_opts(
                &self.path(key),
                PutPayload::from_bytes(bytes.into()),
                options,
            )
            .await
        {
            Ok(put) => Ok(Some(put.into())),
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => Ok(None),
            Err(e) => Err(self.storage_error(key, e)),
        }
    }

    /// Replaces an object only if it is still at `expected` (read with
    /// [`Lake::get_versioned`]): a compare-and-swap. Returns the new version, or `None` when
    /// another writer changed or removed the object since.
    ///
    /// On S3 this is `PutMode::Update` (`If-Match`). `object_store`'s local file system does not
    /// offer it, so on a local folder the compare and the put are done under an exclusive lock
    /// of `<lake>/.lake.lock` (`flock`), which every conditional update of the lake takes: the
    /// put itself stays an atomic rename, so readers never see a partial object.
    pub async fn update_if_unchanged(
        &self,
        key: &str,
        bytes: impl Into<Bytes>,
        expected: &ObjectVersion,
    ) -> Result<Option<ObjectVersion>> {
        let payload = PutPayload::from_bytes(bytes.into());
        let Some(root) = &self.local_root else {
            let options = PutOptions::from(PutMode::Update(expected.clone()));
            return match self.store.put_opts(&self.path(key), payload, options).await {
                Ok(put) => Ok(Some(put.into())),
                Err(object_store::Error::Precondition { .. })
                | Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(self.storage_error(key, e)),
            };
        };
        let lock_path = root.join(LOCAL_LOCK_FILE);
        let _lock = lock_exclusively(lock_path.clone())
            .await
            .map_err(|source| LakeError::Io {
                path: lock_path,
                source,
            })?;
        let now = match self.store.head(&self.path(key)).await {
            Ok(meta) => meta,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.storage_error(key, e)),
        };
        if now.e_tag != expected.e_tag {
            return Ok(None);
        }
        let put = self
            .store
            .put(&self.path(key), payload)
            .await
            .map_err(|e| self.storage_error(key, e))?;
        Ok(Some(put.into()))
    }
}

/// The version of an object as a conditional update compares it (its ETag, and its version
/// where the store keeps versions).
pub type ObjectVersion = object_store::UpdateVersion;

/// The file a local lake's conditional updates lock (see [`Lake::update_if_unchanged`]).
const LOCAL_LOCK_FILE: &str = ".lake.lock";

/// Opens `path` (created if missing) and waits for an exclusive lock on it, off the async
/// threads; the lock lasts as long as the returned file is open.
async fn lock_exclusively(path: std::path::PathBuf) -> std::io::Result<std::fs::File> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .map_err(std::io::Error::other)?
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

    fn local_lake(dir: &tempfile::TempDir) -> Lake {
        Lake::open(
            dir.path().to_str().expect("utf-8 path"),
            &S3Options::default(),
        )
        .expect("opens")
    }

    #[tokio::test]
    async fn create_if_absent_and_update_if_unchanged_on_a_local_folder() {
        let dir = tempfile::tempdir().expect("tmp");
        let lake = local_lake(&dir);
        let first = lake
            .create_if_absent("_lease.json", "a")
            .await
            .expect("create")
            .expect("created: the key was free");
        assert_eq!(
            lake.create_if_absent("_lease.json", "b")
                .await
                .expect("create"),
            None,
            "a second create must find the key taken"
        );
        let (bytes, read) = lake
            .get_versioned("_lease.json")
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(&bytes[..], b"a");
        assert_eq!(read, first);

        let second = lake
            .update_if_unchanged("_lease.json", "c", &read)
            .await
            .expect("update")
            .expect("unchanged since read: replaced");
        // The version read before is stale now.
        assert_eq!(
            lake.update_if_unchanged("_lease.json", "d", &read)
                .await
                .expect("update"),
            None
        );
        assert_eq!(
            lake.get("_lease.json").await.expect("get").as_deref(),
            Some(&b"c"[..])
        );
        lake.delete("_lease.json").await.expect("delete");
        assert_eq!(
            lake.update_if_unchanged("_lease.json", "e", &second)
                .await
                .expect("update"),
            None,
            "a removed object is not recreated by an update"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_compare_and_swaps_on_a_local_folder_lose_no_update() {
        let dir = tempfile::tempdir().expect("tmp");
        let lake = local_lake(&dir);
        lake.create_if_absent("counter", "0")
            .await
            .expect("create")
            .expect("created");
        const WRITERS: usize = 4;
        const INCREMENTS: usize = 25;
        let mut tasks = Vec::new();
        for _ in 0..WRITERS {
            let lake = lake.clone();
            tasks.push(tokio::spawn(async move {
                let mut conflicts = 0;
                for _ in 0..INCREMENTS {
                    loop {
                        let (bytes, version) = lake
                            .get_versioned("counter")
                            .await
                            .expect("get")
                            .expect("exists");
                        let n: usize = std::str::from_utf8(&bytes)
                            .expect("utf-8")
                            .parse()
                            .expect("a number");
                        let next = (n + 1).to_string();
                        match lake
                            .update_if_unchanged("counter", next, &version)
                            .await
                            .expect("update")
                        {
                            Some(_) => break,
                            None => conflicts += 1,
                        }
                    }
                }
                conflicts
            }));
        }
        for task in tasks {
            task.await.expect("writer");
        }
        let total = lake.get("counter").await.expect("get").expect("exists");
        assert_eq!(
            std::str::from_utf8(&total).expect("utf-8"),
            (WRITERS * INCREMENTS).to_string()
        );
    }

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
