//! `liaison`: see `cli` for the commands.

fn main() -> std::process::ExitCode {
    liaison::cli::main()
}

// The service allocates many small, short-lived buffers across threads (requests, rows, JSON);
// mimalloc does that with less CPU and less fragmentation than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
