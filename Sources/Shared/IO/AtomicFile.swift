import Foundation

/// Writes whole files atomically: the bytes go to a temporary file in the target's
/// directory, which is then renamed over the target, so a failed or interrupted tool
/// never leaves a partial output. "-" writes to stdout. A symbolic link is followed (the
/// file it points to is replaced, the link kept), and an existing target that is not a
/// regular file (a device such as /dev/null, a named pipe) is written to in place, never
/// replaced.
public enum AtomicFile {
    /// Writes `data` to `requested`. `beforeCommit` runs once the bytes are in the temporary
    /// file and before it is renamed into place (before writing, for stdout and devices): a
    /// tool prints its JSON lines there, so that a failure to print leaves no output file.
    public static func write(_ data: Data, to requested: String, beforeCommit: () throws -> Void = {}) throws {
        if requested == "-" {
            try beforeCommit()
            try Stdout.write(data)
            return
        }
        let path = resolvingLinks(requested)
        var st = stat()
        // stat follows links through /proc (/dev/stdout on a pipe) that have no path to rename
        if stat(requested, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
            let path = requested
            guard (st.st_mode & S_IFMT) != S_IFDIR else { throw ToolError.file(requested, "cannot write: is a directory") }
            try beforeCommit()
            let fd = open(path, O_WRONLY)
            guard fd >= 0 else { throw ToolError.file(requested, "cannot write: \(String(cString: strerror(errno)))") }
            let err = writeAll(fd, data)
            if close(fd) != 0 && err == 0 { throw ToolError.file(requested, "cannot write: \(String(cString: strerror(errno)))") }
            if err != 0 { throw ToolError.file(requested, "cannot write: \(String(cString: strerror(err)))") }
            return
        }
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        try requireDirectory(dir, for: requested)
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw ToolError.file(requested, "cannot write: \(String(cString: strerror(errno)))") }
        var err = writeAll(fd, data)
        if close(fd) != 0 && err == 0 { err = errno }
        let ok = err == 0
        guard ok else {
            unlink(tmp)
            throw ToolError.file(requested, "cannot write: \(String(cString: strerror(err)))")
        }
        do { try beforeCommit() } catch { unlink(tmp); throw error }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw ToolError.file(requested, "cannot write: \(String(cString: strerror(e)))")
        }
    }

    /// One spelling per file: links followed, `.` and `..` removed, made absolute; so two
    /// outputs, or an output and an input, can be compared.
    public static func canonicalPath(_ path: String) -> String {
        URL(fileURLWithPath: resolvingLinks(path)).standardizedFileURL.path
    }

    /// The file a chain of symbolic links ends at (itself when it is none), even when that
    /// file does not exist yet.
    static func resolvingLinks(_ path: String) -> String {
        var p = path
        for _ in 0..<40 {
            guard let dest = try? FileManager.default.destinationOfSymbolicLink(atPath: p) else { return p }
            p = dest.hasPrefix("/") ? dest : URL(fileURLWithPath: p).deletingLastPathComponent().appendingPathComponent(dest).path
        }
        return p
    }

    /// Writes every byte to `fd`; 0, or the errno of the failure.
    static func writeAll(_ fd: Int32, _ data: Data) -> Int32 {
        data.withUnsafeBytes { raw -> Int32 in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { return errno }
                off += n
            }
            return 0
        }
    }

    /// Whether `path` exists and is not a regular file (a device, a pipe, a socket).
    public static func isSpecialFile(_ path: String) -> Bool {
        var st = stat()
        return path != "-" && stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG && (st.st_mode & S_IFMT) != S_IFDIR
    }

    /// Checks, before any work, that `path` can be written: "-", or a path whose directory
    /// exists and is writable, and that is not itself a directory.
    public static func checkWritable(_ requested: String) throws {
        guard requested != "-", !isSpecialFile(requested) else { return }
        let path = resolvingLinks(requested)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { throw ToolError.file(requested, "cannot write: is a directory") }
            guard access(path, W_OK) == 0 else { throw ToolError.file(requested, "cannot write: \(String(cString: strerror(errno)))") }
            return
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try requireDirectory(dir, for: requested)
        guard access(dir, W_OK) == 0 else { throw ToolError.file(requested, "cannot write: directory \(dir) is not writable") }
    }
}

/// Standard output for results, with a write error (a closed or full stdout) reported as a
/// `ToolError` instead of a crash.
public enum Stdout {
    public static func write(_ data: Data) throws {
        let err = AtomicFile.writeAll(STDOUT_FILENO, data)
        guard err == 0 else { throw ToolError("cannot write to stdout: \(String(cString: strerror(err)))") }
    }
}

extension AtomicFile {
    /// That an output's parent `dir` can hold it: the error names the output `requested` and
    /// says whether the directory is missing or a file stands where it should be
    /// (`-o ref.npy/out.npy`).
    static func requireDirectory(_ dir: String, for requested: String) throws {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: dir, isDirectory: &isDir)
        guard exists, isDir.boolValue else {
            throw ToolError.file(requested, "cannot write: " + (exists ? "\(dir) is not a directory" : "directory \(dir) does not exist"))
        }
    }
}
