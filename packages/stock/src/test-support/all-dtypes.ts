/** One small tensor of every dtype, with awkward values (extremes, negative zero, NaN bits). */
import type { DType } from '../tensor/dtypes.js';
import { type Tensor, tensor } from '../tensor/tensor.js';

export function tensorsOfEveryDType(): Record<DType, Tensor> {
  return {
    float16: tensor(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7e00, 0x8000]), [2, 3], 'float16'),
    float32: tensor(new Float32Array([1.5, -0, 3.4028234663852886e38, Number.NaN, 1e-45, -2]), [3, 2]),
    float64: tensor(new Float64Array([Math.PI, -Number.MAX_VALUE, Number.MIN_VALUE, Number.POSITIVE_INFINITY]), [4]),
    int8: tensor(new Int8Array([-128, 127, 0, -1]), [2, 2]),
    int16: tensor(new Int16Array([-32768, 32767, 5]), [3, 1]),
    int32: tensor(new Int32Array([-2147483648, 2147483647]), [1, 2]),
    int64: tensor(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 42n]), [3]),
    uint8: tensor(new Uint8Array([0, 255, 7, 9, 11, 13, 17, 19]), [2, 2, 2]),
    uint16: tensor(new Uint16Array([0, 65535]), [2]),
    uint32: tensor(new Uint32Array([4294967295, 0, 1]), [3]),
    uint64: tensor(new BigUint64Array([2n ** 64n - 1n, 0n]), [2]),
    bool: tensor([true, false, false, true], [2, 2]),
  };
}
