//! Validates every WGSL stage with naga, so that a broken shader fails `cargo build`.

#[path = "src/shader_source.rs"]
#[allow(dead_code)]
mod shader_source;

fn main() {
    println!("cargo:rerun-if-changed=../../shaders");
    println!("cargo:rerun-if-changed=src/shader_source.rs");
    for stage in shader_source::STAGES {
        let source = shader_source::resolved(stage);
        let module = naga::front::wgsl::parse_str(&source).unwrap_or_else(|e| {
            panic!(
                "shaders/{stage} does not parse:\n{}",
                e.emit_to_string(&source)
            )
        });
        let mut validator = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        );
        if let Err(e) = validator.validate(&module) {
            panic!("shaders/{stage} is invalid:\n{}", e.emit_to_string(&source));
        }
    }
}
