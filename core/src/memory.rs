//! How much memory the queries of one process may hold, and where what does not fit spills.
//!
//! Every query of the process shares one bounded pool: DataFusion's [`FairSpillPool`], tracked so
//! that a refusal names the largest consumers. When a sort or an aggregate has used its share, it
//! writes sorted runs to files under the spill folder and merges them back. A hash join's build
//! side cannot spill in DataFusion 55: a join whose build side does not fit fails with
//! "Resources exhausted", which the pipeline reports as [`LakeError::MemoryLimit`] naming the
//! setting to raise.
//!
//! The spill files go through a [`SpillCounter`], so a run can say how much it spilled.
//!
//! [`LakeError::MemoryLimit`]: crate::error::LakeError::MemoryLimit

use std::fmt;
use std::io::Write;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use datafusion::error::Result as DfResult;
use datafusion::execution::disk_manager::{DiskManager, DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{FairSpillPool, MemoryPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::spill_file::{SpillFile, SpillWriter, TempFileFactory};
use futures::Stream;

/// The pool of `lake` on standalone and DataFusion when `--memory-limit` is not given.
pub const DEFAULT_MEMORY_LIMIT: MemoryLimit = MemoryLimit::Bytes(1 << 30);

/// The consumers a refusal names.
const CONSUMERS_SHOWN: usize = 5;

/// The memory the queries of a process may reserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryLimit {
    /// No pool: nothing spills, and memory grows with the data.
    Unbounded,
    /// A pool of this many bytes, shared by every query of the process.
    Bytes(u64),
}

impl MemoryLimit {
    /// The pool's size in bytes, if bounded.
    pub fn bytes(self) -> Option<u64> {
        match self {
            MemoryLimit::Unbounded => None,
            MemoryLimit::Bytes(bytes) => Some(bytes),
        }
    }
}

impl fmt::Display for MemoryLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryLimit::Unbounded => f.write_str("unbounded"),
            MemoryLimit::Bytes(bytes) => f.write_str(&human_bytes(*bytes)),
        }
    }
}

impl FromStr for MemoryLimit {
    type Err = String;

    /// A size such as `64MiB`, `1.5GiB`, `512MB` or `1073741824` (bytes); `0` or `unbounded`
    /// for no pool.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("unbounded") {
            return Ok(MemoryLimit::Unbounded);
        }
        let size = bytesize::ByteSize::from_str(text).map_err(|e| {
            format!("{text:?} is not a size ({e}); write e.g. 512MiB, 2GiB, or 0 for unbounded")
        })?;
        Ok(match size.as_u64() {
            0 => MemoryLimit::Unbounded,
            bytes => MemoryLimit::Bytes(bytes),
        })
    }
}

/// `1.5 GiB`, `64.0 MiB`: binary units, as the flags accept them.
pub fn human_bytes(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

/// How much a process spilled: files created and bytes written to them.
#[derive(Debug, Default)]
pub struct SpillCounter {
    files: AtomicU64,
    bytes: AtomicU64,
}

/// A reading of a [`SpillCounter`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spilled {
    /// Spill files created.
    pub files: u64,
    /// Bytes written to them.
    pub bytes: u64,
}

impl Spilled {
    /// What was spilled since `earlier`, a reading of the same counter.
    pub fn since(self, earlier: Spilled) -> Spilled {
        Spilled {
            files: self.files.saturating_sub(earlier.files),
            bytes: self.bytes.saturating_sub(earlier.bytes),
        }
    }
}

impl fmt::Display for Spilled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in {} file{}",
            human_bytes(self.bytes),
            self.files,
            if self.files == 1 { "" } else { "s" }
        )
    }
}

impl SpillCounter {
    /// The totals so far.
    pub fn read(&self) -> Spilled {
        Spilled {
            files: self.files.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}

/// What bounds the queries of a process: its pool and its spill folder.
#[derive(Debug, Clone)]
pub struct MemorySettings {
    /// The pool shared by every query.
    pub limit: MemoryLimit,
    /// Where spill files go; `None`: a folder in the system's temporary directory.
    pub spill_dir: Option<PathBuf>,
}

impl Default for MemorySettings {
    fn default() -> Self {
        Self {
            limit: DEFAULT_MEMORY_LIMIT,
            spill_dir: None,
        }
    }
}

/// A runtime with the settings' pool, spilling through `counter` into the spill folder.
pub fn runtime_builder(
    settings: &MemorySettings,
    counter: Arc<SpillCounter>,
) -> DfResult<RuntimeEnvBuilder> {
    let builder = with_counted_spills(
        RuntimeEnvBuilder::new(),
        settings.spill_dir.as_deref(),
        counter,
    )?;
    Ok(match settings.limit {
        MemoryLimit::Unbounded => builder,
        MemoryLimit::Bytes(bytes) => builder.with_memory_pool(bounded_pool(bytes)),
    })
}

/// `builder` with its spill files created in `dir` (`None`: the system's temporary directory)
/// and counted by `counter`.
pub fn with_counted_spills(
    builder: RuntimeEnvBuilder,
    dir: Option<&Path>,
    counter: Arc<SpillCounter>,
) -> DfResult<RuntimeEnvBuilder> {
    let files = CountingSpillFiles::new(dir, counter)?;
    Ok(builder.with_disk_manager_builder(
        DiskManagerBuilder::default().with_temp_file_factory(Arc::new(files)),
    ))
}

/// A fair spilling pool of `bytes`, whose refusals name its largest consumers.
pub fn bounded_pool(bytes: u64) -> Arc<dyn MemoryPool> {
    let size = usize::try_from(bytes).unwrap_or(usize::MAX);
    let shown = NonZeroUsize::new(CONSUMERS_SHOWN).unwrap_or(NonZeroUsize::MIN);
    Arc::new(TrackConsumersPool::new(FairSpillPool::new(size), shown))
}

/// Spill files in one folder, counted.
#[derive(Debug)]
struct CountingSpillFiles {
    disk: Arc<DiskManager>,
    counter: Arc<SpillCounter>,
}

impl CountingSpillFiles {
    fn new(dir: Option<&Path>, counter: Arc<SpillCounter>) -> DfResult<Self> {
        let mode = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                DiskManagerMode::Directories(vec![dir.to_path_buf()])
            }
            None => DiskManagerMode::OsTmpDirectory,
        };
        let disk = Arc::new(DiskManagerBuilder::default().with_mode(mode).build()?);
        Ok(Self { disk, counter })
    }
}

impl TempFileFactory for CountingSpillFiles {
    fn create_temp_file(&self, description: &str) -> DfResult<Arc<dyn SpillFile>> {
        let file = self.disk.create_tmp_file(description)?;
        self.counter.files.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::new(CountedFile {
            file,
            counter: self.counter.clone(),
        }))
    }
}

struct CountedFile {
    file: Arc<dyn SpillFile>,
    counter: Arc<SpillCounter>,
}

type ByteStream = Pin<Box<dyn Stream<Item = DfResult<Bytes>> + Send>>;

impl SpillFile for CountedFile {
    fn path(&self) -> Option<&Path> {
        self.file.path()
    }

    fn size(&self) -> Option<u64> {
        self.file.size()
    }

    fn read_stream(&self) -> DfResult<ByteStream> {
        self.file.read_stream()
    }

    fn open_writer(&self) -> DfResult<Box<dyn SpillWriter>> {
        Ok(Box::new(CountedWriter {
            writer: self.file.open_writer()?,
            counter: self.counter.clone(),
        }))
    }
}

struct CountedWriter {
    writer: Box<dyn SpillWriter>,
    counter: Arc<SpillCounter>,
}

impl Write for CountedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.writer.write(buf)?;
        self.counter
            .bytes
            .fetch_add(written as u64, Ordering::Relaxed);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

impl SpillWriter for CountedWriter {
    fn finish(&mut self) -> DfResult<()> {
        self.writer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_binary_or_decimal_units() {
        assert_eq!("64MiB".parse(), Ok(MemoryLimit::Bytes(64 << 20)));
        assert_eq!("1.5GiB".parse(), Ok(MemoryLimit::Bytes(3 << 29)));
        assert_eq!("512MB".parse(), Ok(MemoryLimit::Bytes(512_000_000)));
        assert_eq!("1024".parse(), Ok(MemoryLimit::Bytes(1024)));
        assert_eq!("0".parse(), Ok(MemoryLimit::Unbounded));
        assert_eq!("unbounded".parse(), Ok(MemoryLimit::Unbounded));
    }

    #[test]
    fn a_bad_size_names_itself_and_the_expected_form() {
        let error = "lots".parse::<MemoryLimit>().unwrap_err();
        assert!(error.contains("\"lots\""), "{error}");
        assert!(error.contains("2GiB"), "{error}");
    }

    #[test]
    fn limits_print_in_binary_units() {
        assert_eq!(MemoryLimit::Bytes(64 << 20).to_string(), "64.0 MiB");
        assert_eq!(MemoryLimit::Unbounded.to_string(), "unbounded");
    }

    #[test]
    fn spill_files_and_bytes_are_counted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let counter = Arc::new(SpillCounter::default());
        let files =
            CountingSpillFiles::new(Some(dir.path()), counter.clone()).expect("spill files");
        let file = files.create_temp_file("test").expect("spill file");
        let mut writer = file.open_writer().expect("writer");
        writer.write_all(&[7u8; 1000]).expect("write");
        writer.finish().expect("finish");
        let on_disk = file.path().map(|p| p.starts_with(dir.path()));
        assert_eq!(on_disk, Some(true));
        assert_eq!(
            counter.read(),
            Spilled {
                files: 1,
                bytes: 1000
            }
        );
    }

    #[test]
    fn a_bounded_pool_refuses_past_its_size_and_names_the_consumer() {
        use datafusion::execution::memory_pool::MemoryConsumer;
        let pool = bounded_pool(1000);
        let reservation = MemoryConsumer::new("big join").register(&pool);
        assert!(reservation.try_grow(800).is_ok());
        let refusal = reservation.try_grow(400).unwrap_err().to_string();
        assert!(refusal.contains("Resources exhausted"), "{refusal}");
        assert!(refusal.contains("big join"), "{refusal}");
    }
}
