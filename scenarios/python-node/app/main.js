// The application the image exists for: it reports the runtimes it found, so `docker run` of any
// variant shows that the image works.
const { execFileSync } = require("node:child_process");

function version(command, args) {
  try {
    return execFileSync(command, args, { encoding: "utf8" }).trim();
  } catch (error) {
    return `not runnable (${error.code || error.message})`;
  }
}

console.log(`node ${process.version}`);
console.log(`compiled from source: ${version("sh", ["-c", "ls /usr/local/bin | tr '\\n' ' '"])}`);
console.log(`python3: ${version("/usr/local/bin/python3", ["-c", "import sys, ssl, sqlite3, zlib; print(sys.version.split()[0], ssl.OPENSSL_VERSION)"])}`);
