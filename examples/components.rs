//! Dumps map's component scores (C, W, P, T) per posting of a labelled file, for offline tuning.
use std::io::Write;
use std::sync::Mutex;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let engine = skillmap::engine::Engine::open(std::path::Path::new(&args[1])).unwrap();
    let mapper = skillmap::map::Mapper::new(&engine).unwrap();
    let out = std::sync::Arc::new(Mutex::new(Vec::new()));
    let o2 = out.clone();
    skillmap::map::set_debug_sink(Box::new(move |text, rows| {
        o2.lock()
            .unwrap()
            .push(serde_json::json!({"text": text, "rows": rows}));
    }));
    let mut w = std::io::BufWriter::new(std::fs::File::create(&args[3]).unwrap());
    for line in std::fs::read_to_string(&args[2]).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let req = skillmap::map::MapRequest {
            text: v["text"].as_str().unwrap().to_string(),
            title: v["title"].as_str().map(str::to_string),
            top: 5,
        };
        let r = mapper.map(&req).unwrap();
        let recs: Vec<serde_json::Value> = out.lock().unwrap().drain(..).collect();
        let mut rec = recs.iter().find(|r| r["text"] != "level").cloned().unwrap();
        rec["level_parts"] = recs
            .iter()
            .find(|r| r["text"] == "level")
            .map(|r| r["rows"].clone())
            .unwrap_or_default();
        rec["soc"] = v["soc"].clone();
        rec["level"] = v["level"].clone();
        rec["top"] = r.matches[0].soc.clone().into();
        writeln!(w, "{rec}").unwrap();
    }
}
