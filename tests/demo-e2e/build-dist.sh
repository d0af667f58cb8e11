#!/bin/sh
# Builds the web demo as `cargo xtask demo` does (release wasm32 → wasm-bindgen --target web →
# wasm-opt -Oz → web-demo/static/* → index.html) into the directory given as $1 (default
# $CARGO_TARGET_DIR/demo-dist), without starting a server; prints the gzip size of the bundle.
set -eu
cd "$(dirname "$0")/../.."
TARGET="${CARGO_TARGET_DIR:-target}"
OUT="${1:-$TARGET/demo-dist}"
cargo build --release --target wasm32-unknown-unknown -p chorus-web-demo
rm -rf "$OUT"
tools/bin/wasm-bindgen --target web --out-name chorus_web_demo --out-dir "$OUT" \
  "$TARGET/wasm32-unknown-unknown/release/chorus-web-demo.wasm"
if [ -x node_modules/.bin/wasm-opt ]; then
  node_modules/.bin/wasm-opt -Oz "$OUT/chorus_web_demo_bg.wasm" -o "$OUT/chorus_web_demo_bg.wasm"
fi
cp web-demo/static/* "$OUT/"
styles=""
for css in "$OUT"/*.css; do
  [ -e "$css" ] && styles="$styles  <link rel=\"stylesheet\" href=\"./$(basename "$css")\">
"
done
if [ ! -e "$OUT/index.html" ]; then
  cat > "$OUT/index.html" <<HTML
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Chorus demo</title>
  <link rel="icon" href="data:,">
$styles</head>
<body>
  <script type="module">
    import init from "./chorus_web_demo.js";
    init();
  </script>
</body>
</html>
HTML
fi
total=0
for f in "$OUT"/chorus_web_demo_bg.wasm "$OUT"/chorus_web_demo.js "$OUT"/*.css "$OUT"/index.html; do
  n=$(gzip -9c "$f" | wc -c)
  echo "$(basename "$f"): $(wc -c < "$f") bytes, $n gzip -9"
  total=$((total + n))
done
echo "total gzip -9: $total bytes"
