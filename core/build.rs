//! Rebuilds lake-core when a file of `sql/` is added, removed or changed: the models are
//! embedded with `include_dir!`, which Cargo tracks file by file, so a new model file alone
//! would otherwise leave the binaries without it.

fn main() {
    println!("cargo:rerun-if-changed=../sql");
}
