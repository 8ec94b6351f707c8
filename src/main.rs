fn main() -> std::process::ExitCode {
    parlab::cli::main()
}
