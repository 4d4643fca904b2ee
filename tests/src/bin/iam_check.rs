//! `make test`'s last test step: every AWS call the suite recorded (`AWS_CALL_LOG`) is granted by
//! its function's IAM policy in `template.yaml` (`api_tests::iam`).

fn main() {
    let path = match std::env::var("AWS_CALL_LOG") {
        Ok(path) => path,
        Err(_) => {
            eprintln!("iam_check: AWS_CALL_LOG names the log the suite wrote");
            std::process::exit(2);
        }
    };
    match api_tests::iam::check_log(&path) {
        Ok(checked) => println!("iam_check: {checked} (function, action) pairs, each granted"),
        Err(why) => {
            eprintln!("iam_check: {why}");
            std::process::exit(1);
        }
    }
}
