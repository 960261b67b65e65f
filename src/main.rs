fn main() {
    std::process::exit(pr_risk::cli::main());
}
