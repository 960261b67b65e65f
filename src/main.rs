fn main() {
    std::process::exit(pr_risk::main());
}
