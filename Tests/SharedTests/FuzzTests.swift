import Foundation
import XCTest
import Shared

/// Malformed input must give a one-line ToolError, never a crash: random mutations of valid
/// files (bytes flipped, truncated, extended) and odd dataset specs.
final class FuzzTests: XCTestCase {
    var rng = RNG(seed: 51)
    let dir = tempDir()

    func mutations(of valid: Data, count: Int) -> [Data] {
        (0..<count).map { k in
            var d = valid
            switch k % 3 {
            case 0: for _ in 0..<(1 + rng.int(below: 4)) { let i = rng.int(below: d.count); d[i] = UInt8(rng.int(below: 256)) }
            case 1: d = d.prefix(rng.int(below: d.count))
            default: d.append(contentsOf: (0..<(1 + rng.int(below: 16))).map { _ in UInt8(rng.int(below: 256)) })
            }
            return d
        }
    }

    /// Decoding either succeeds or throws a one-line ToolError.
    func survives(_ body: () throws -> Void) {
        do { try body() } catch let e as ToolError { XCTAssertFalse(e.message.contains("\n")) } catch { XCTFail("unexpected \(error)") }
    }

    func testMutatedFilesNeverCrash() throws {
        let npy = Npy.encode(rng.normalTensor([3, 4, 5]))
        for d in mutations(of: npy, count: 600) { survives { _ = try Npy.decode(d, name: "f.npy") } }
        let st = try SafeTensors.encode(SafeTensors.File(tensors: [("a", rng.normalTensor([4, 3])), ("b", rng.normalTensor([2]))],
                                                         metadata: ["config": "{}"]))
        for d in mutations(of: st, count: 600) { survives { _ = try SafeTensors.decode(d, name: "f.safetensors") } }
        let png = try PNG.encode(rng.uniformTensor([3, 8, 8]))
        for (i, d) in mutations(of: png, count: 150).enumerated() {
            FileManager.default.createFile(atPath: dir + "/p\(i).png", contents: d)
            survives { _ = try PNG.read(dir + "/p\(i).png") }
        }
        try IDX.writeGzip(shape: [4, 5, 6], bytes: (0..<120).map { UInt8($0) }, to: dir + "/ok.gz")
        let idx = try Data(contentsOf: URL(fileURLWithPath: dir + "/ok.gz"))
        for (i, d) in mutations(of: idx, count: 150).enumerated() {
            FileManager.default.createFile(atPath: dir + "/i\(i).gz", contents: d)
            survives { _ = try IDX.read(dir + "/i\(i).gz") }
        }
        // hostile safetensors headers: huge numbers, negative offsets, wrong types
        for header in [#"{"a":{"dtype":"F32","shape":[1e30],"data_offsets":[0,4]}}"#,
                       #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#,
                       #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,1e300]}}"#,
                       #"{"a":{"dtype":"F32","shape":[9223372036854775807,2],"data_offsets":[0,4]}}"#,
                       #"{"a":{"dtype":"F32","shape":"x","data_offsets":[0,4]}}"#, #"{"__metadata__":{"k":1}}"#] {
            var d = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
            d.append(Data(header.utf8)); d.append(Data(count: 4))
            survives { _ = try SafeTensors.decode(d, name: "h.safetensors") }
        }
    }

    func testOddDatasetSpecsNeverCrash() {
        let specs = ["synthetic:test[-9223372036854775808:]", "synthetic:test[:-9223372036854775808]", "synthetic:test[9223372036854775807:]",
                     "synthetic:test@9223372036854775807", "synthetic:test@1/99999999999999999999", "synthetic:test[1:2]@3", "[:]", "@", ":",
                     "synthetic:test[0:10]@10/1", "x.npy[", "synthetic:test]", "synthetic:test[[1:2]]"]
        for s in specs { survives { _ = try DatasetCatalog.load(s) } }
        for _ in 0..<300 {
            let chars = Array("synthetic:test[]:@/-0123456789.npy ")
            let s = String((0..<rng.int(below: 24)).map { _ in chars[rng.int(below: chars.count)] })
            survives { _ = try DatasetSpec(parsing: s).range(count: 10) }
        }
        XCTAssertEqual(try DatasetSpec(parsing: "x:y[-9223372036854775808:]").range(count: 5), 0..<5)
    }
}
