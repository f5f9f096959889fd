//! numpy arrays in and out, without compiling against numpy: arrays cross
//! as native-endian bytes (`ndarray.tobytes()` in, `numpy.frombuffer` out),
//! so the one wheel works with every numpy ≥ 1.26.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes};

static NUMPY: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The `numpy` module.
pub fn numpy(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    NUMPY
        .get_or_try_init(py, || py.import("numpy").map(Bound::unbind))
        .map(|m| m.bind(py))
}

/// `obj` as a C-contiguous array of `dtype` and its shape.
fn contiguous<'py>(
    obj: &Bound<'py, PyAny>,
    dtype: &str,
) -> PyResult<(Bound<'py, PyAny>, Vec<usize>)> {
    let np = numpy(obj.py())?;
    let arr = np.call_method1("ascontiguousarray", (obj, dtype))?;
    let shape: Vec<usize> = arr.getattr("shape")?.extract()?;
    Ok((arr, shape))
}

fn bytes_of(arr: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let b = arr.call_method0("tobytes")?;
    Ok(b.cast::<PyBytes>()?.as_bytes().to_vec())
}

fn one_dim(shape: &[usize], what: &str) -> PyResult<()> {
    if shape.len() != 1 {
        return Err(PyValueError::new_err(format!(
            "{what}: expected a 1-D array, got shape {shape:?}"
        )));
    }
    Ok(())
}

/// A 1-D float64 array (anything `numpy.ascontiguousarray` takes).
pub fn f64_vec(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f64>> {
    let (arr, shape) = contiguous(obj, "float64")?;
    one_dim(&shape, what)?;
    Ok(bytes_of(&arr)?
        .chunks_exact(8)
        .map(|c| f64::from_ne_bytes(c.try_into().unwrap_or_default()))
        .collect())
}

/// A 2-D float64 array as rows; higher dimensions are flattened per row
/// (`x.reshape(len(x), -1)`), a 1-D array is one row.
pub fn f64_rows(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<f64>>> {
    let (arr, shape) = contiguous(obj, "float64")?;
    let (rows, cols) = match shape.len() {
        0 => return Err(PyValueError::new_err("expected an array, got a scalar")),
        1 => (1, shape[0]),
        _ => (shape[0], shape[1..].iter().product()),
    };
    let flat: Vec<f64> = bytes_of(&arr)?
        .chunks_exact(8)
        .map(|c| f64::from_ne_bytes(c.try_into().unwrap_or_default()))
        .collect();
    if cols == 0 {
        return Ok(vec![Vec::new(); rows]);
    }
    Ok(flat.chunks(cols).map(<[f64]>::to_vec).collect())
}

/// A 1-D array of integers as `i64` (bools and integer dtypes; floats are
/// refused rather than truncated).
pub fn i64_vec(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<i64>> {
    let np = numpy(obj.py())?;
    let arr = np.call_method1("asarray", (obj,))?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "i" | "u" | "b" | "O") {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected integers, got an array of dtype {}",
            arr.getattr("dtype")?.str()?
        )));
    }
    let kwargs = pyo3::types::PyDict::new(obj.py());
    kwargs.set_item("casting", if kind == "O" { "unsafe" } else { "safe" })?;
    let arr = if kind == "O" {
        // Python ints: numpy raises OverflowError beyond int64.
        np.call_method1("array", (obj, "int64"))?
    } else {
        arr.call_method("astype", ("int64",), Some(&kwargs))?
    };
    let (arr, shape) = contiguous(&arr, "int64")?;
    one_dim(&shape, what)?;
    Ok(bytes_of(&arr)?
        .chunks_exact(8)
        .map(|c| i64::from_ne_bytes(c.try_into().unwrap_or_default()))
        .collect())
}

/// A 1-D complex128 array as `(re, im)` pairs.
pub fn complex_vec(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<(f64, f64)>> {
    let (arr, shape) = contiguous(obj, "complex128")?;
    one_dim(&shape, what)?;
    Ok(bytes_of(&arr)?
        .chunks_exact(16)
        .map(|c| {
            let re = f64::from_ne_bytes(c[..8].try_into().unwrap_or_default());
            let im = f64::from_ne_bytes(c[8..].try_into().unwrap_or_default());
            (re, im)
        })
        .collect())
}

fn from_bytes<'py>(py: Python<'py>, bytes: &[u8], dtype: &str) -> PyResult<Bound<'py, PyAny>> {
    let buf = PyByteArray::new(py, bytes);
    numpy(py)?.call_method1("frombuffer", (buf, dtype))
}

/// A new float64 array.
pub fn f64_array<'py>(py: Python<'py>, values: &[f64]) -> PyResult<Bound<'py, PyAny>> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
    from_bytes(py, &bytes, "float64")
}

/// A new 2-D float64 array (`rows × cols`, all rows of one length).
pub fn f64_matrix<'py>(py: Python<'py>, rows: &[Vec<f64>]) -> PyResult<Bound<'py, PyAny>> {
    let cols = rows.first().map_or(0, Vec::len);
    if rows.iter().any(|r| r.len() != cols) {
        return Err(PyValueError::new_err("rows of different lengths"));
    }
    let bytes: Vec<u8> = rows
        .iter()
        .flatten()
        .flat_map(|v| v.to_ne_bytes())
        .collect();
    from_bytes(py, &bytes, "float64")?.call_method1("reshape", (rows.len(), cols))
}

/// A new int64 array.
pub fn i64_array<'py>(py: Python<'py>, values: &[i64]) -> PyResult<Bound<'py, PyAny>> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
    from_bytes(py, &bytes, "int64")
}

/// A new complex128 array.
pub fn complex_array<'py>(py: Python<'py>, values: &[(f64, f64)]) -> PyResult<Bound<'py, PyAny>> {
    let bytes: Vec<u8> = values
        .iter()
        .flat_map(|(re, im)| re.to_ne_bytes().into_iter().chain(im.to_ne_bytes()))
        .collect();
    from_bytes(py, &bytes, "complex128")
}
