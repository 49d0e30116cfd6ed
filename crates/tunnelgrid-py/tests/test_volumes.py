"""label, spanning and transport on NumPy volumes, against scipy.ndimage and the CLI."""

import json
import sys
import threading
import tracemalloc

import numpy as np
import pytest
from scipy import ndimage

import tunnelgrid

CONNECTIVITY_RANK = {6: 1, 18: 2, 26: 3}


def random_volume(shape, fraction, seed):
    return np.random.default_rng(seed).random(shape) < fraction


def porous_volume(shape, porosity, seed):
    """Blobs: smoothed noise thresholded at the quantile that leaves `porosity` occupied (what
    porespy.generators.blobs does), so clusters are large, rounded and tortuous."""
    noise = ndimage.gaussian_filter(np.random.default_rng(seed).random(shape), sigma=2.0)
    return noise > np.quantile(noise, 1.0 - porosity)


def assert_same_partition(a, b):
    """Same occupied voxels, and a one-to-one map between the two labellings' clusters."""
    assert a.shape == b.shape
    np.testing.assert_array_equal(a != 0, b != 0)
    occupied = a != 0
    pairs = np.unique(np.stack([a[occupied], b[occupied]]), axis=1)
    assert pairs.shape[1] == len(np.unique(a[occupied])) == len(np.unique(b[occupied]))


VOLUMES = {
    "random-0.25": lambda: random_volume((18, 20, 22), 0.25, 1),
    "random-0.5": lambda: random_volume((18, 20, 22), 0.5, 2),
    "porous-0.3": lambda: porous_volume((24, 24, 24), 0.3, 3),
    "porous-0.55": lambda: porous_volume((24, 24, 24), 0.55, 4),
    # More sites than one chunk of the parallel numbering (2^16): clusters start in many chunks.
    "random-0.3-large": lambda: random_volume((40, 50, 60), 0.3, 10),
}


@pytest.mark.parametrize("connectivity", [6, 18, 26])
@pytest.mark.parametrize("name", sorted(VOLUMES))
def test_partitions_equal_scipy_ndimage_label(name, connectivity):
    volume = VOLUMES[name]()
    labels, n = tunnelgrid.label(volume, connectivity=connectivity)
    structure = ndimage.generate_binary_structure(3, CONNECTIVITY_RANK[connectivity])
    expected, expected_n = ndimage.label(volume, structure=structure)
    assert labels.dtype == np.uint32 and labels.shape == volume.shape
    assert n == expected_n and n > 1
    assert_same_partition(labels, expected)
    # Labels are 1..n, numbered in C order of each cluster's first voxel: scipy's numbering.
    np.testing.assert_array_equal(labels, expected)


@pytest.mark.parametrize("connectivity,rank", [(4, 1), (6, 1), (8, 2)])
def test_a_2d_image_is_one_layer_labelled_like_scipy(connectivity, rank):
    image = random_volume((30, 41), 0.5, 5)
    labels, n = tunnelgrid.label(image, connectivity=connectivity)
    expected, expected_n = ndimage.label(image, structure=ndimage.generate_binary_structure(2, rank))
    assert labels.shape == image.shape and n == expected_n
    assert_same_partition(labels, expected)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint32, np.int64])
def test_integer_and_fortran_arrays_give_the_bool_labels(dtype):
    volume = random_volume((10, 11, 12), 0.4, 6)
    expected, n = tunnelgrid.label(volume)
    # Nonzero is occupied, whatever the value (negative ones included).
    values = volume.astype(dtype) * (3 if np.dtype(dtype).kind == "u" else -3)
    fortran = np.asfortranarray(values)
    assert not fortran.flags.c_contiguous
    for array in (values, fortran):
        labels, m = tunnelgrid.label(array)
        assert m == n
        np.testing.assert_array_equal(labels, expected)
    # Strided views (every other z layer; x reversed) are read through their strides.
    for view in (values[::2], values[:, :, ::-1]):
        labels, _ = tunnelgrid.label(view)
        np.testing.assert_array_equal(labels, tunnelgrid.label(np.ascontiguousarray(view))[0])


def test_threads_gives_the_same_labels_and_is_checked():
    volume = VOLUMES["random-0.3-large"]()
    expected, n = tunnelgrid.label(volume)
    for threads in (1, 3):
        labels, m = tunnelgrid.label(volume, threads=threads)
        assert m == n
        np.testing.assert_array_equal(labels, expected)
    np.testing.assert_array_equal(tunnelgrid.spanning(volume, threads=1), tunnelgrid.spanning(volume))
    with pytest.raises(ValueError, match="threads 0: allowed 1 to 1024 worker threads"):
        tunnelgrid.label(volume, threads=0)


def test_a_c_contiguous_volume_is_not_copied_through_numpy():
    # tracemalloc sees every NumPy allocation: a conversion or copy of the int64 input
    # (astype, ascontiguousarray) would allocate at least its 8 MB again. The labels are
    # allocated by Rust (not traced), the occupancy too (1 byte per voxel).
    volume = random_volume((100, 100, 100), 0.3, 7).astype(np.int64)
    tracemalloc.start()
    try:
        tunnelgrid.label(volume)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < volume.nbytes // 8, f"{peak} bytes traced while labelling {volume.nbytes} bytes"


def test_spanning_keeps_the_clusters_that_touch_both_faces():
    volume = porous_volume((20, 20, 20), 0.45, 8)
    labels, _ = ndimage.label(volume)
    for axis in range(3):
        first = np.take(labels, 0, axis=axis)
        last = np.take(labels, -1, axis=axis)
        spanning_ids = np.intersect1d(first[first > 0], last[last > 0])
        expected = np.isin(labels, spanning_ids)
        kept = tunnelgrid.spanning(volume, axis=axis)
        assert kept.dtype == np.bool_ and kept.any()
        np.testing.assert_array_equal(kept, expected)
        np.testing.assert_array_equal(tunnelgrid.spanning(volume, axis=axis - 3), expected)
    union = np.logical_or.reduce([tunnelgrid.spanning(volume, axis=a) for a in range(3)])
    np.testing.assert_array_equal(tunnelgrid.spanning(volume), union)
    # A 2D image: axis 0 is y; the single z layer is no axis of it.
    image = np.zeros((5, 6), bool)
    image[:, 2] = True  # a column joining y = 0 to y = 4
    np.testing.assert_array_equal(tunnelgrid.spanning(image, axis=0), image)
    assert not tunnelgrid.spanning(image, axis=1).any()
    np.testing.assert_array_equal(tunnelgrid.spanning(image), image)


@pytest.mark.parametrize("name", ["random-0.5", "porous-0.55"])
def test_transport_equals_the_cli_on_the_same_volume(name, report_of, tmp_path):
    volume = VOLUMES[name]()
    path = tmp_path / "volume.npy"
    np.save(path, volume)
    report = report_of("--volume", path, "--resistance", "--engine", "cpu", "--voxel", "2e-6")
    solved = report  # report.json holds the transport keys at its top level
    for numpy_axis, axis in [(0, "z"), (1, "y"), (2, "x")]:
        t = tunnelgrid.transport(volume, axis=numpy_axis, voxel=2e-6)
        assert solved["resistance_ohm"][axis] is not None, f"{name} must conduct along {axis}"
        assert t.resistance_ohm == pytest.approx(solved["resistance_ohm"][axis], rel=1e-9)
        assert t.resistivity_ohm_m == pytest.approx(solved["resistivity_ohm_m"][axis], rel=1e-9)
        assert t.relative_conductivity == pytest.approx(solved["relative_conductivity"][axis], rel=1e-9)
        assert t.tortuosity == pytest.approx(solved["tortuosity"][axis], rel=1e-9)
        assert t.iterations == solved["solver_iterations"][axis]
        assert t.current is None


def direct_resistance_along_x(image):
    """R of a 2D image between bus bars through its first and last columns, 1 ohm per shared
    edge, by a sparse direct solve of Kirchhoff's laws (an independent route: the CLI refuses
    one-layer volumes, whose z axis has no two faces)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    ny, nx = image.shape
    clusters, _ = ndimage.label(image)
    bars = np.union1d(clusters[:, 0], clusters[:, -1])
    live = image & np.isin(clusters, bars[bars > 0])  # a cluster touching neither bar floats
    free = live.copy()
    free[:, [0, -1]] = False  # the bars' own pixels are held at 1 V and 0 V
    index = -np.ones(image.shape, int)
    index[free] = np.arange(free.sum())
    rows, cols, vals = [], [], []
    rhs = np.zeros(free.sum())
    current = 0.0
    for (dy, dx) in [(0, 1), (1, 0)]:
        a = live[: ny - dy, : nx - dx] & live[dy:, dx:]
        for y, x in zip(*np.nonzero(a)):
            p, q = (y, x), (y + dy, x + dx)
            for u, v in [(p, q), (q, p)]:
                if free[u]:
                    rows.append(index[u]); cols.append(index[u]); vals.append(1.0)
                    if free[v]:
                        rows.append(index[u]); cols.append(index[v]); vals.append(-1.0)
                    elif v[1] == 0:
                        rhs[index[u]] += 1.0  # neighbour on the 1 V bar
    n = free.sum()
    potential = spsolve(coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr(), rhs)
    for y in np.nonzero(live[:, 0] & live[:, 1])[0]:
        current += 1.0 - (potential[index[y, 1]] if free[y, 1] else 0.0)
    return 1.0 / current


def test_a_2d_image_conducts_as_kirchhoffs_laws_say():
    image = random_volume((30, 40), 0.7, 11)
    expected = direct_resistance_along_x(image)
    t = tunnelgrid.transport(image, axis=1)  # NumPy axis 1 of an image is x
    assert t.resistance_ohm == pytest.approx(expected, rel=1e-8)
    # Along y: the transposed image along x.
    assert tunnelgrid.transport(image, axis=0).resistance_ohm == pytest.approx(
        direct_resistance_along_x(image.T.copy()), rel=1e-8)
    # σ_eff/σ_0 against the full image: ny chains of (nx − 1) bonds.
    assert t.relative_conductivity == pytest.approx((1 / expected) / (30 / 39), rel=1e-8)


def test_transport_current_is_the_cli_current_map(cli, tmp_path):
    volume = VOLUMES["porous-0.55"]()
    path = tmp_path / "volume.npy"
    np.save(path, volume)
    cli("export", "--volume", path, "--field", "current", "--axis", "z", "--out", tmp_path / "current.npy")
    t = tunnelgrid.transport(volume, axis=0, current=True)
    assert t.current.dtype == np.float32 and t.current.shape == volume.shape
    np.testing.assert_allclose(t.current, np.load(tmp_path / "current.npy"), rtol=1e-6, atol=1e-12)
    assert t.current[volume].max() > 0 and not t.current[~volume].any()


def test_an_insulating_volume_has_infinite_resistance():
    volume = np.zeros((6, 6, 6), bool)
    volume[:3] = True  # fills only the lower half along z
    t = tunnelgrid.transport(volume, axis=0)
    assert t.resistance_ohm == float("inf")
    assert t.relative_conductivity is None and t.tortuosity is None
    assert tunnelgrid.transport(volume, axis=2).resistance_ohm < float("inf")


# ------------------------------------------------------------------------------ bad input


def test_float_arrays_are_refused():
    with pytest.raises(ValueError, match=r"label: volume has dtype float64, which is not supported; a volume needs one of bool"):
        tunnelgrid.label(np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match=r"transport: volume has dtype float32"):
        tunnelgrid.transport(np.zeros((4, 4, 4), np.float32))


def test_1d_arrays_are_refused():
    with pytest.raises(ValueError, match=r"label: volume is a 1D array of shape \(5,\); give a 3D volume shaped \(nz, ny, nx\) or a 2D image"):
        tunnelgrid.label(np.ones(5, bool))


def test_4d_arrays_are_refused():
    with pytest.raises(ValueError, match=r"spanning: volume is a 4D array of shape \(2, 2, 2, 2\)"):
        tunnelgrid.spanning(np.ones((2, 2, 2, 2), bool))


def test_non_arrays_empty_arrays_and_bad_options_are_refused():
    with pytest.raises(ValueError, match="label: volume must be a NumPy array of bool, uint8"):
        tunnelgrid.label([[1, 0], [0, 1]])
    with pytest.raises(ValueError, match=r"label: volume has an empty axis, shape \(3, 0, 2\)"):
        tunnelgrid.label(np.ones((3, 0, 2), bool))
    with pytest.raises(ValueError, match="connectivity 8 is not a voxel connectivity; use 6, 18 or 26"):
        tunnelgrid.label(np.ones((3, 3, 3), bool), connectivity=8)
    with pytest.raises(ValueError, match="connectivity 5 is not a connectivity of a 2D image"):
        tunnelgrid.label(np.ones((3, 3), bool), connectivity=5)
    with pytest.raises(ValueError, match=r"transport: axis 3 is out of range for a 3D array \(NumPy axes 0..2, axis 0 = z\)"):
        tunnelgrid.transport(np.ones((3, 3, 3), bool), axis=3)
    with pytest.raises(ValueError, match=r"voxel 0 is out of range"):
        tunnelgrid.transport(np.ones((3, 3, 3), bool), voxel=0.0)


# ------------------------------------------------------------------------------ GIL release


def test_label_releases_the_gil():
    """While `label` runs, another Python thread runs: no timing, only whether it ran at all.

    The switch interval is raised to 100 s, so the interpreter never forces the GIL away from
    the main thread within this test: the counting thread (which gives the GIL up after each
    step with sleep(0)) can count between `before` and `after` only if `label` released the
    GIL. Without the release the two reads are equal.
    """
    volume = random_volume((80, 80, 80), 0.3, 9)
    # A first call does one-time work that may release the GIL by itself (rust-numpy imports
    # NumPy's C API, reading files): done here, so only the computation's release is measured.
    tunnelgrid.label(volume[:2])
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1
            time_sleep(0)

    interval = sys.getswitchinterval()
    thread = threading.Thread(target=count)
    sys.setswitchinterval(100.0)
    try:
        thread.start()
        while counter[0] == 0:  # the counter is running
            time_sleep(0)
        before = counter[0]
        # Several calls: the counting thread needs the OS to run it during one of them, which
        # a loaded machine may delay; without the release it cannot count during any.
        for _ in range(5):
            tunnelgrid.label(volume)
        after = counter[0]
    finally:
        stop.set()
        sys.setswitchinterval(interval)
        thread.join()
    assert after > before, "no other thread ran while label computed: the GIL was held"


def time_sleep(seconds):
    import time

    time.sleep(seconds)
