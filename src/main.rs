//! `liaison`: see `cli` for the commands.

fn main() -> std::process::ExitCode {
    liaison::cli::main()
}
