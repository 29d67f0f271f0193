"""The surface renderer behind :mod:`crossscale.plotting.brain` (matplotlib only).

fsaverage5 meshes cut into flat-coloured triangles, orthographic camera views along x, Lambert
shading, one triangle artist per view.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from crossscale.atlas.surface import load_fsaverage5

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Colour (RGB) of regions that have no value in the map.
MISSING_COLOR = (0.78, 0.78, 0.78)
#: Colour (RGB) of the medial wall (no label in the atlas).
MEDIAL_WALL_COLOR = (0.55, 0.55, 0.55)

_UP = np.array([0.0, 0.0, 1.0])
_AMBIENT = 0.6


@dataclass(frozen=True)
class _Mesh:
    """A hemisphere cut into flat-coloured render triangles.

    A face whose three vertices carry the same label is one render triangle. A face on a region
    boundary is cut into six: each vertex keeps the quarter-face nearest to it (vertex, the two
    edge midpoints, the centroid), coloured by its own label, so boundaries run through faces
    (as in FreeSurfer's viewer) instead of zig-zagging along whole triangles.
    """

    normals: np.ndarray  # (F, 3) unit, outward, per mesh face
    centroids: np.ndarray  # (F, 3) per mesh face
    triangles: np.ndarray  # (T, 3, 3) render triangles
    parent: np.ndarray  # (T,) mesh face of each render triangle
    labels: np.ndarray  # (T,) index into the atlas's regions, -1 medial wall
    sulcal: np.ndarray  # (T,) bool, lies in a sulcus (texture of the grey background)
    y_range: tuple[float, float]  # anterior-posterior extent (mm)
    z_range: tuple[float, float]  # inferior-superior extent (mm)


@lru_cache(maxsize=24)
def _mesh(hemisphere: str, surface: str, atlas: Any = None) -> _Mesh:
    mesh = load_fsaverage5(hemisphere, surface)
    v, f = mesh.vertices, mesh.faces
    tri = v[f]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True).clip(1e-12)
    centroids = tri.mean(axis=1)
    vertex_labels = mesh.labels if atlas is None else atlas.vertex_labels(hemisphere)
    lab = vertex_labels[f]
    sulc = _sulcal(hemisphere)[f] > 0  # (F, 3)
    pure = (lab[:, 0] == lab[:, 1]) & (lab[:, 1] == lab[:, 2])
    mixed = np.flatnonzero(~pure)
    pieces, parents, labels, sulcal = [tri[pure]], [np.flatnonzero(pure)], [lab[pure, 0]], []
    sulcal.append(sulc[pure].mean(axis=1) > 0.5)
    g = centroids[mixed]
    for k in range(3):
        a, b, c = tri[mixed, k], tri[mixed, (k + 1) % 3], tri[mixed, (k + 2) % 3]
        m_ab, m_ac = (a + b) / 2, (a + c) / 2
        # keep the winding of the face: (a, m_ab, g) and (a, g, m_ac)
        pieces += [np.stack([a, m_ab, g], axis=1), np.stack([a, g, m_ac], axis=1)]
        parents += [mixed, mixed]
        labels += [lab[mixed, k]] * 2
        sulcal += [sulc[mixed, k]] * 2
    return _Mesh(
        normals=normals,
        centroids=centroids,
        triangles=np.concatenate(pieces),
        parent=np.concatenate(parents),
        labels=np.concatenate(labels),
        sulcal=np.concatenate(sulcal),
        y_range=(float(v[:, 1].min()), float(v[:, 1].max())),
        z_range=(float(v[:, 2].min()), float(v[:, 2].max())),
    )


def _sulcal(hemisphere: str) -> np.ndarray:
    """Sulcal depth of each vertex (fsaverage5 ``sulc`` shipped with nilearn), zeros if absent."""
    import nibabel as nib

    from crossscale.atlas.surface import _nilearn_file

    name = {"L": "left", "R": "right"}[hemisphere]
    try:
        return np.asarray(nib.load(_nilearn_file(f"sulc_{name}.gii.gz")).darrays[0].data)
    except (FileNotFoundError, ModuleNotFoundError, OSError):  # pragma: no cover
        return np.zeros(10242)


def _camera(direction_x: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit vector towards the camera and the screen's right-pointing vector."""
    to_camera = np.array([direction_x, 0.0, 0.0])
    view = -to_camera  # looking direction
    right = np.cross(view, _UP)
    return to_camera, right


def _project(mesh: _Mesh, direction_x: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render triangles of `mesh` facing a camera at x = direction_x * inf, sorted far to near.

    Returns
    -------
    polygons : ndarray, shape (n_visible, 3, 2)
        Screen coordinates (mm) of each visible render triangle.
    index : ndarray, shape (n_visible,)
        Index of each polygon in ``mesh.triangles`` (and ``mesh.labels``).
    shade : ndarray, shape (n_visible,)
        Lambert shading factor in [_AMBIENT, 1] (of the mesh face it belongs to).
    """
    to_camera, right = _camera(direction_x)
    facing = mesh.normals @ to_camera > 0  # back faces are hidden on a closed surface
    depth = mesh.centroids @ to_camera
    index = np.flatnonzero(facing[mesh.parent])
    index = index[np.argsort(depth[mesh.parent[index]], kind="stable")]  # far (small) first
    light = to_camera + 0.35 * _UP + 0.15 * right
    light /= np.linalg.norm(light)
    diffuse = np.sqrt(np.clip(mesh.normals @ light, 0.0, 1.0))
    shade = (_AMBIENT + (1.0 - _AMBIENT) * diffuse)[mesh.parent[index]]
    tri = mesh.triangles[index]
    polygons = np.stack([tri @ right, tri @ _UP], axis=-1)
    return polygons, index, shade


def _triangle_artist(triangles: np.ndarray, colors: np.ndarray) -> Any:
    """A :class:`SurfaceTriangles` artist (see :func:`_surface_triangles_class`)."""
    return _surface_triangles_class()(triangles, colors)


@lru_cache(maxsize=1)
def _surface_triangles_class() -> type:
    """The artist class that paints flat-coloured triangles in order with one renderer call.

    Defined on first use so that importing this module does not import matplotlib.

    Agg's ``draw_gouraud_triangles`` fills all triangles in one C loop, about ten times faster
    than a PolyCollection (one Path object per triangle). Each triangle gets the same colour at
    its three corners, i.e. flat shading.
    """
    from matplotlib.artist import Artist, allow_rasterization

    class SurfaceTriangles(Artist):
        """Flat-coloured triangles in screen-plane data coordinates, drawn in array order.

        Attributes
        ----------
        triangles : ndarray, shape (n, 3, 2)
        facecolors : ndarray, shape (n, 4)
            RGBA of each triangle.
        """

        def __init__(self, triangles: np.ndarray, facecolors: np.ndarray) -> None:
            super().__init__()
            # In PDF/SVG the surface is embedded as an image (text and colour bar stay vector):
            # 40,000 vector triangles make slow, heavy files.
            self.set_rasterized(True)
            self.triangles = np.ascontiguousarray(triangles, dtype=float)
            rgba = np.ones((len(facecolors), 4))
            rgba[:, : facecolors.shape[1]] = facecolors
            self.facecolors = rgba

        def get_facecolors(self) -> np.ndarray:
            return self.facecolors

        @allow_rasterization
        def draw(self, renderer: Any) -> None:
            if not self.get_visible() or len(self.triangles) == 0:
                return
            renderer.open_group("surface", gid=self.get_gid())
            gc = renderer.new_gc()
            self._set_gc_clip(gc)
            colors = np.ascontiguousarray(
                np.broadcast_to(self.facecolors[:, None, :], (len(self.facecolors), 3, 4))
            )
            renderer.draw_gouraud_triangles(
                gc, self.triangles, colors, self.get_transform().frozen()
            )
            gc.restore()
            renderer.close_group("surface")
            self.stale = False

    return SurfaceTriangles


def _draw_view(
    ax: Axes,
    hemisphere: str,
    direction_x: float,
    region_rgb: np.ndarray,
    *,
    surface: str,
    shading: bool,
    atlas: Any = None,
) -> None:
    mesh = _mesh(hemisphere, surface, atlas)
    triangles, index, shade = _project(mesh, direction_x)
    labels = mesh.labels[index]
    colors = region_rgb[labels]  # label -1 picks the medial-wall row
    if shading:
        grey = (labels >= 0) & np.all(colors == MISSING_COLOR, axis=1)
        texture = np.where(grey & mesh.sulcal[index], 0.82, 1.0)
        colors = np.clip(colors * (shade * texture)[:, None], 0.0, 1.0)
    artist = _triangle_artist(triangles, colors)
    artist.set_transform(ax.transData)
    artist.set_gid(f"{hemisphere}:{direction_x:+.0f}")
    ax.add_artist(artist)
    right = _camera(direction_x)[1]
    pad = 2.0
    x_ends = sorted((mesh.y_range[0] * right[1], mesh.y_range[1] * right[1]))
    ax.set_xlim(x_ends[0] - pad, x_ends[1] + pad)
    ax.set_ylim(mesh.z_range[0] - pad, mesh.z_range[1] + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
