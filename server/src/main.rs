//! The chorus-server binary.

fn main() {
    eprintln!("chorus-server: not yet implemented (the wire codecs in chorus-proto are ready)");
    std::process::exit(2);
}
