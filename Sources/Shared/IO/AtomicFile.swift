import Foundation

/// Writes whole files atomically: the bytes go to a temporary file in the target's
/// directory, which is then renamed over the target, so a failed or interrupted tool
/// never leaves a partial output. "-" writes to stdout.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        if path == "-" {
            FileHandle.standardOutput.write(data)
            return
        }
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ToolError.file(path, "cannot write: directory \(dir) does not exist")
        }
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw ToolError.file(path, "cannot write: \(String(cString: strerror(errno)))") }
        var ok = true
        var err: Int32 = 0
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { ok = false; err = errno; break }
                off += n
            }
        }
        if close(fd) != 0 && ok { ok = false; err = errno }
        guard ok else {
            unlink(tmp)
            throw ToolError.file(path, "cannot write: \(String(cString: strerror(err)))")
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw ToolError.file(path, "cannot write: \(String(cString: strerror(e)))")
        }
    }
}
