#include "wkp-npy.h"
#include "wkp-error.h"
#include "wkp-io.h"

#include <string.h>

static const struct {
  WkpDtype dtype;
  const char *descr;
  gsize size;
} dtypes[] = {
  { WKP_DTYPE_F32, "<f4", 4 },
  { WKP_DTYPE_F64, "<f8", 8 },
  { WKP_DTYPE_U8, "|u1", 1 },
  { WKP_DTYPE_I32, "<i4", 4 },
  { WKP_DTYPE_I64, "<i8", 8 },
};

gsize
wkp_dtype_size (WkpDtype dtype)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (dtypes[i].dtype == dtype)
      return dtypes[i].size;
  g_return_val_if_reached (0);
}

const char *
wkp_dtype_descr (WkpDtype dtype)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (dtypes[i].dtype == dtype)
      return dtypes[i].descr;
  g_return_val_if_reached ("?");
}

void
wkp_npy_free (WkpNpy *npy)
{
  if (npy == NULL)
    return;
  g_clear_pointer (&npy->map, g_mapped_file_unref);
  g_clear_pointer (&npy->bytes, g_bytes_unref);
  g_free (npy->aligned);
  g_free (npy);
}

/* Finds the value text after 'key': in a Python dict literal. */
static const char *
dict_value (const char *header, const char *key)
{
  g_autofree char *quoted1 = g_strdup_printf ("'%s'", key);
  g_autofree char *quoted2 = g_strdup_printf ("\"%s\"", key);
  const char *p = strstr (header, quoted1);
  if (p == NULL)
    p = strstr (header, quoted2);
  if (p == NULL)
    return NULL;
  p += strlen (quoted1);
  while (*p == ' ')
    p++;
  if (*p != ':')
    return NULL;
  p++;
  while (*p == ' ')
    p++;
  return p;
}

static gboolean
parse_header (WkpNpy *npy, const guint8 *raw, gsize len, const char *name, gsize *data_offset,
              GError **error)
{
  guint major;
  gsize header_len, hdr_start;
  g_autofree char *header = NULL;
  const char *v;

  if (len < 10 || memcmp (raw, "\x93NUMPY", 6) != 0)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "%s: not a NumPy .npy file (bad magic)", name);
      return FALSE;
    }
  major = raw[6];
  if (major == 1)
    {
      header_len = raw[8] | (raw[9] << 8);
      hdr_start = 10;
    }
  else if (major == 2 || major == 3)
    {
      if (len < 12)
        goto truncated;
      header_len = (gsize) raw[8] | ((gsize) raw[9] << 8) | ((gsize) raw[10] << 16) | ((gsize) raw[11] << 24);
      hdr_start = 12;
    }
  else
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_UNSUPPORTED, "%s: unsupported .npy format version %u", name, major);
      return FALSE;
    }
  if (header_len > len - hdr_start)
    goto truncated;
  header = g_strndup ((const char *) raw + hdr_start, header_len);
  *data_offset = hdr_start + header_len;

  v = dict_value (header, "descr");
  if (v == NULL || (v[0] != '\'' && v[0] != '"') || strnlen (v, 5) < 5)   /* a quoted 3-character code */
    goto malformed;
  {
    gboolean found = FALSE;
    for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
      {
        const char *d = dtypes[i].descr;
        /* '|u1' may also be written '<u1' or '|u1'; accept both byte orders for 1-byte types */
        if ((strncmp (v + 1, d, 3) == 0) ||
            (dtypes[i].size == 1 && strncmp (v + 2, d + 1, 2) == 0 && (v[1] == '<' || v[1] == '|')))
          {
            npy->dtype = dtypes[i].dtype;
            found = TRUE;
            break;
          }
      }
    if (!found)
      {
        g_autofree char *descr = g_strndup (v, strcspn (v, ","));
        g_set_error (error, WKP_IO_ERROR, WKP_ERROR_UNSUPPORTED,
                     "%s: unsupported dtype %s (expected little-endian float32/float64/uint8/int32/int64)",
                     name, descr);
        return FALSE;
      }
  }

  v = dict_value (header, "fortran_order");
  if (v == NULL)
    goto malformed;
  if (strncmp (v, "False", 5) != 0)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_UNSUPPORTED,
                   "%s: Fortran-order arrays are not supported (save with numpy.ascontiguousarray)", name);
      return FALSE;
    }

  v = dict_value (header, "shape");
  if (v == NULL || *v != '(')
    goto malformed;
  v++;
  npy->ndim = 0;
  npy->n_elements = 1;
  for (;;)
    {
      char *end;
      gint64 dim;
      while (*v == ' ' || *v == ',')
        v++;
      if (*v == ')')
        break;
      if (!g_ascii_isdigit (*v))
        goto malformed;
      dim = g_ascii_strtoll (v, &end, 10);
      if (end == v || dim < 0 || npy->ndim >= WKP_NPY_MAX_DIMS)
        goto malformed;
      if (end[0] == 'L')
        end++;
      npy->shape[npy->ndim++] = dim;
      if (dim > 0 && npy->n_elements > G_MAXINT64 / dim)
        goto malformed;
      npy->n_elements *= dim;
      v = end;
    }
  if (npy->n_elements > 0 &&
      (gsize) npy->n_elements > (len - *data_offset) / wkp_dtype_size (npy->dtype))
    goto truncated;
  return TRUE;

truncated:
  g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "%s: truncated .npy file", name);
  return FALSE;
malformed:
  g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "%s: malformed .npy header", name);
  return FALSE;
}

/* numpy pads the header so that the data starts on a 64-byte boundary, but
 * other writers need not: values read through a misaligned float pointer are
 * undefined behaviour, so such data is copied once into aligned memory. */
static void
set_data (WkpNpy *npy, const guint8 *raw, gsize offset)
{
  const guint8 *data = raw + offset;
  if ((guintptr) data % wkp_dtype_size (npy->dtype) != 0)
    {
      npy->aligned = g_memdup2 (data, (gsize) npy->n_elements * wkp_dtype_size (npy->dtype));
      data = npy->aligned;
    }
  npy->data = data;
}

WkpNpy *
wkp_npy_load (const char *path, GError **error)
{
  g_autoptr(WkpNpy) npy = g_new0 (WkpNpy, 1);
  g_autoptr(GError) local = NULL;
  gsize offset = 0, len;
  const guint8 *raw;

  if (!wkp_check_input_file (path, WKP_IO_ERROR, error))
    return NULL;
  npy->map = g_mapped_file_new (path, FALSE, &local);
  if (npy->map == NULL)
    {
      wkp_set_file_error (error, WKP_IO_ERROR, path, local);
      return NULL;
    }
  wkp_io_note_input (path);
  raw = (const guint8 *) g_mapped_file_get_contents (npy->map);
  len = g_mapped_file_get_length (npy->map);
  if (!parse_header (npy, raw, len, path, &offset, error))
    return NULL;
  set_data (npy, raw, offset);
  return g_steal_pointer (&npy);
}

WkpNpy *
wkp_npy_load_bytes (GBytes *bytes, const char *name, GError **error)
{
  g_autoptr(WkpNpy) npy = g_new0 (WkpNpy, 1);
  gsize offset = 0, len;
  const guint8 *raw = g_bytes_get_data (bytes, &len);

  npy->bytes = g_bytes_ref (bytes);
  if (!parse_header (npy, raw, len, name, &offset, error))
    return NULL;
  set_data (npy, raw, offset);
  return g_steal_pointer (&npy);
}

gboolean
wkp_npy_check (const WkpNpy *npy, const char *name, WkpDtype dtype, int ndim, const gint64 *shape,
               GError **error)
{
  gboolean ok = npy->dtype == dtype && npy->ndim == ndim;
  for (int i = 0; ok && i < ndim; i++)
    if (shape[i] >= 0 && shape[i] != npy->shape[i])
      ok = FALSE;
  if (!ok)
    {
      g_autoptr(GString) want = g_string_new ("(");
      g_autoptr(GString) got = g_string_new ("(");
      for (int i = 0; i < ndim; i++)
        {
          if (shape[i] >= 0)
            g_string_append_printf (want, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
          else
            g_string_append_printf (want, "%sN", i ? ", " : "");
        }
      for (int i = 0; i < npy->ndim; i++)
        g_string_append_printf (got, "%s%" G_GINT64_FORMAT, i ? ", " : "", npy->shape[i]);
      g_string_append_c (want, ')');
      g_string_append_c (got, ')');
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID,
                   "%s: expected a %s array of shape %s, found %s of shape %s",
                   name, wkp_dtype_descr (dtype), want->str, wkp_dtype_descr (npy->dtype), got->str);
      return FALSE;
    }
  return TRUE;
}

GBytes *
wkp_npy_encode (WkpDtype dtype, int ndim, const gint64 *shape, gconstpointer data)
{
  g_autoptr(GString) header = g_string_new (NULL);
  GByteArray *out;
  gint64 n = 1;
  gsize total;
  guint16 hlen;

  g_return_val_if_fail (ndim >= 0 && ndim <= WKP_NPY_MAX_DIMS, NULL);

  g_string_append_printf (header, "{'descr': '%s', 'fortran_order': False, 'shape': (", wkp_dtype_descr (dtype));
  for (int i = 0; i < ndim; i++)
    {
      g_string_append_printf (header, "%" G_GINT64_FORMAT "%s", shape[i], (ndim == 1 || i < ndim - 1) ? ", " : "");
      n *= shape[i];
    }
  /* numpy writes "(3,)" for 1-d and "(3, 4)" otherwise */
  if (ndim == 1)
    g_string_truncate (header, header->len - 1);
  g_string_append (header, "), }");
  /* pad so that the data starts at a multiple of 64 bytes; header ends with \n */
  total = 10 + header->len + 1;
  while (total % 64 != 0)
    {
      g_string_append_c (header, ' ');
      total++;
    }
  g_string_append_c (header, '\n');
  hlen = (guint16) header->len;

  out = g_byte_array_sized_new (total + n * wkp_dtype_size (dtype));
  g_byte_array_append (out, (const guint8 *) "\x93NUMPY\x01\x00", 8);
  {
    guint8 le[2] = { hlen & 0xff, hlen >> 8 };
    g_byte_array_append (out, le, 2);
  }
  g_byte_array_append (out, (const guint8 *) header->str, header->len);
  if (n > 0)
    g_byte_array_append (out, data, n * wkp_dtype_size (dtype));
  return g_byte_array_free_to_bytes (out);
}

gboolean
wkp_npy_save (const char *path, WkpDtype dtype, int ndim, const gint64 *shape, gconstpointer data,
              GError **error)
{
  g_autoptr(GBytes) bytes = wkp_npy_encode (dtype, ndim, shape, data);
  return wkp_write_file_atomic (path, bytes, error);
}
