/* wkp-npy.h: NumPy .npy arrays (format 1.0-3.0), memory-mapped for reading.
 *
 * Only C-order little-endian arrays of the dtypes below are accepted; anything
 * else is a clear WKP_IO_ERROR naming the file. Writing goes through
 * wkp_npy_encode() + WkpOutput so that files appear atomically.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  WKP_DTYPE_F32,
  WKP_DTYPE_F64,
  WKP_DTYPE_U8,
  WKP_DTYPE_I32,
  WKP_DTYPE_I64,
} WkpDtype;

#define WKP_NPY_MAX_DIMS 8

typedef struct {
  WkpDtype     dtype;
  int          ndim;
  gint64       shape[WKP_NPY_MAX_DIMS];
  gint64       n_elements;
  gconstpointer data;     /* into the mapping (read-only), or an aligned copy */
  /*< private >*/
  GMappedFile *map;
  GBytes      *bytes;
  gpointer     aligned;  /* the copy, when the file's data offset is not aligned */
} WkpNpy;

gsize      wkp_dtype_size      (WkpDtype dtype);
const char *wkp_dtype_descr    (WkpDtype dtype);    /* "<f4", ... */

/* Memory-maps @path. The array stays valid until wkp_npy_free(). */
WkpNpy    *wkp_npy_load        (const char *path, GError **error);
/* Parses an in-memory .npy (e.g. a member of an .npz); keeps a ref on @bytes. */
WkpNpy    *wkp_npy_load_bytes  (GBytes *bytes, const char *name, GError **error);
void       wkp_npy_free        (WkpNpy *npy);

/* Checks dtype and shape; a -1 in @shape matches any size. */
gboolean   wkp_npy_check       (const WkpNpy *npy, const char *name, WkpDtype dtype,
                                int ndim, const gint64 *shape, GError **error);

/* Serialises an array (format 1.0) to bytes. */
GBytes    *wkp_npy_encode      (WkpDtype dtype, int ndim, const gint64 *shape, gconstpointer data);
/* Writes @path atomically (temporary file + rename). */
gboolean   wkp_npy_save        (const char *path, WkpDtype dtype, int ndim, const gint64 *shape,
                                gconstpointer data, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpNpy, wkp_npy_free)

G_END_DECLS
