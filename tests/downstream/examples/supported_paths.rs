//! Prints the kernel paths this machine supports, one per line (`tools/test.sh`
//! runs the tests once per path).

fn main() {
    for path in reproducible::kernels::Path::supported() {
        println!("{path}");
    }
}
