/* .npy reading/writing, checked against numpy itself. */
#include "wkp-npy.h"
#include "wkp-io.h"
#include "wkp-error.h"
#include "wkp-test-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static void
test_roundtrip_numpy (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "a.npy", NULL);
  g_autofree char *back = g_build_filename (dir, "b.npy", NULL);
  g_autoptr(GError) error = NULL;
  float data[3 * 68 * 2];
  gint64 shape[] = { 3, 68, 2 };

  if (wkp_test_python ("numpy") == NULL)
    return;
  wkp_test_random_fill (data, G_N_ELEMENTS (data), -100, 100);
  g_assert_true (wkp_npy_save (path, WKP_DTYPE_F32, 3, shape, data, &error));
  g_assert_no_error (error);

  /* numpy reads ours, writes a float64 copy times two; we read that back */
  {
    const char *args[] = { path, back, NULL };
    g_autofree char *out = wkp_test_run_python ("npy_roundtrip.py", args);
    g_assert_cmpstr (g_strstrip (out), ==, "(3, 68, 2) float32");
  }
  {
    g_autoptr(WkpNpy) npy = wkp_npy_load (back, &error);
    const double *d;
    g_assert_no_error (error);
    g_assert_true (wkp_npy_check (npy, back, WKP_DTYPE_F64, 3, shape, &error));
    d = npy->data;
    for (guint i = 0; i < G_N_ELEMENTS (data); i++)
      g_assert_cmpfloat (d[i], ==, 2.0 * (double) data[i]);
  }
}

/* A writer other than numpy may leave the data at an offset that is not a
 * multiple of the element size (here 10 + 117 = 127 bytes): the values must
 * still be read, through an aligned pointer (UBSan flags a misaligned load). */
static void
test_unaligned_data (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  for (int k = 0; k < 2; k++)
    {
      gboolean f64 = k == 1;
      g_autofree char *path = g_strdup_printf ("%s/odd%d.npy", dir, k);
      g_autoptr(GString) file = g_string_new_len ("\x93NUMPY\x01\x00", 8);
      g_autoptr(GString) header = g_string_new (NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(WkpNpy) npy = NULL;
      gint64 shape[] = { 5, 3 };
      g_string_printf (header, "{'descr': '%s', 'fortran_order': False, 'shape': (5, 3), }", f64 ? "<f8" : "<f4");
      while (header->len < 116)
        g_string_append_c (header, ' ');
      g_string_append_c (header, '\n');
      g_assert_cmpuint (header->len, ==, 117);
      g_string_append_c (file, (char) 117);
      g_string_append_c (file, 0);
      g_string_append_len (file, header->str, header->len);
      for (int i = 0; i < 15; i++)
        {
          if (f64)
            {
              double v = 0.25 * i - 1;
              g_string_append_len (file, (const char *) &v, sizeof v);
            }
          else
            {
              float v = 0.25f * i - 1;
              g_string_append_len (file, (const char *) &v, sizeof v);
            }
        }
      g_assert_true (g_file_set_contents (path, file->str, file->len, NULL));
      npy = wkp_npy_load (path, &error);
      g_assert_no_error (error);
      g_assert_true (wkp_npy_check (npy, path, f64 ? WKP_DTYPE_F64 : WKP_DTYPE_F32, 2, shape, &error));
      g_assert_cmpuint ((guintptr) npy->data % wkp_dtype_size (npy->dtype), ==, 0);
      for (int i = 0; i < 15; i++)
        g_assert_cmpfloat (f64 ? ((const double *) npy->data)[i] : ((const float *) npy->data)[i], ==, 0.25 * i - 1);
      if (wkp_test_python ("numpy") != NULL)
        {
          /* numpy agrees that this is a valid file with these values */
          const char *args[] = { path, NULL };
          g_autofree char *out = wkp_test_run_python ("npy_roundtrip.py", args);
          g_assert_cmpstr (g_strstrip (out), ==, f64 ? "(5, 3) float64" : "(5, 3) float32");
        }
    }
}

static void
test_shapes (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autoptr(GError) error = NULL;
  gint64 one[] = { 5 };
  gint64 empty[] = { 0, 156 };
  guint8 u[5] = { 1, 2, 3, 4, 5 };
  g_autofree char *p1 = g_build_filename (dir, "u.npy", NULL);
  g_autofree char *p2 = g_build_filename (dir, "e.npy", NULL);

  g_assert_true (wkp_npy_save (p1, WKP_DTYPE_U8, 1, one, u, &error));
  g_assert_true (wkp_npy_save (p2, WKP_DTYPE_F32, 2, empty, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr(WkpNpy) a = wkp_npy_load (p1, &error);
    g_autoptr(WkpNpy) b = wkp_npy_load (p2, &error);
    g_assert_no_error (error);
    g_assert_cmpint (a->ndim, ==, 1);
    g_assert_cmpint (a->shape[0], ==, 5);
    g_assert_cmpmem (a->data, 5, u, 5);
    g_assert_cmpint (b->ndim, ==, 2);
    g_assert_cmpint (b->n_elements, ==, 0);
    g_assert_cmpint (b->shape[1], ==, 156);
    /* wrong expectation is a clear error naming the file */
    {
      gint64 want[] = { -1, 68, 2 };
      g_assert_false (wkp_npy_check (b, p2, WKP_DTYPE_F32, 3, want, &error));
      g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "e.npy"));
      g_assert_nonnull (strstr (error->message, "(N, 68, 2)"));
    }
  }
}

static void
test_malformed (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "bad.npy", NULL);
  g_autoptr(GError) error = NULL;
  float data[100] = { 0 };
  gint64 shape[] = { 100 };
  gchar *contents;
  gsize len;

  g_assert_true (wkp_npy_save (path, WKP_DTYPE_F32, 1, shape, data, &error));
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));

  /* truncated */
  g_assert_true (g_file_set_contents (path, contents, len - 7, NULL));
  g_assert_null (wkp_npy_load (path, &error));
  g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "truncated"));
  g_clear_error (&error);

  /* not npy */
  g_assert_true (g_file_set_contents (path, "hello world, not an array", -1, NULL));
  g_assert_null (wkp_npy_load (path, &error));
  g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID);
  g_clear_error (&error);

  /* big-endian dtype */
  {
    char *p = strstr (contents + 10, "<f4");
    p[0] = '>';
    g_assert_true (g_file_set_contents (path, contents, len, NULL));
    g_assert_null (wkp_npy_load (path, &error));
    g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_UNSUPPORTED);
    g_clear_error (&error);
  }
  /* a header length that cuts the dict right after "'descr': " (the
   * parser must not read past it; ASan catches an over-read) */
  {
    static const char dict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 68, 2), }";
    GString *b = g_string_new_len ("\x93NUMPY\x01\x00\x0a\x00", 10);
    g_string_append (b, dict);
    for (int i = 0; i < 544; i++)
      g_string_append_c (b, '\0');
    g_assert_true (g_file_set_contents (path, b->str, (gssize) b->len, NULL));
    g_string_free (b, TRUE);
    g_assert_null (wkp_npy_load (path, &error));
    g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID);
    g_clear_error (&error);
  }
  /* missing */
  g_assert_null (wkp_npy_load ("/nonexistent/x.npy", &error));
  g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_NOT_FOUND);
  g_free (contents);
}

/* A failed write never destroys the existing file; a committed one is whole. */
static void
test_atomic_output (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "out.npy", NULL);
  g_autofree char *json = wkp_path_replace_ext (path, ".json");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) old = g_bytes_new_static ("old", 3);
  g_autoptr(GBytes) neu = g_bytes_new_static ("new", 3);

  g_autofree char *want_json = g_build_filename (dir, "out.json", NULL);

  g_assert_cmpstr (json, ==, want_json);
  g_assert_true (wkp_write_file_atomic (path, old, &error));
  {
    g_autoptr(WkpOutput) out = wkp_output_new ();
    g_assert_true (wkp_output_add_bytes (out, path, neu, &error));
    /* not committed: dropped, the old file stays */
  }
  {
    g_autofree char *c = NULL;
    g_assert_true (g_file_get_contents (path, &c, NULL, NULL));
    g_assert_cmpstr (c, ==, "old");
  }
  /* a file written in pieces: invisible until committed, dropped with its
   * temporary when abandoned half-written or left unfinished */
  {
    g_autoptr(WkpOutput) out = wkp_output_new ();
    FILE *fp = wkp_output_add_file (out, path, &error);
    g_assert_no_error (error);
    g_assert_nonnull (fp);
    fputs ("half", fp);
  }
  {
    g_autoptr(WkpOutput) out = wkp_output_new ();
    FILE *fp = wkp_output_add_file (out, path, &error);
    g_assert_nonnull (fp);
    fputs ("not finished", fp);
    g_assert_false (wkp_output_commit (out, &error));
    g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_IO);
    g_clear_error (&error);
  }
  {
    g_autofree char *c = NULL;
    g_assert_true (g_file_get_contents (path, &c, NULL, NULL));
    g_assert_cmpstr (c, ==, "old");
  }
  /* nothing else is left in the folder */
  {
    GDir *d = g_dir_open (dir, 0, NULL);
    int n = 0;
    while (g_dir_read_name (d) != NULL)
      n++;
    g_dir_close (d);
    g_assert_cmpint (n, ==, 1);
  }
  {
    g_autoptr(WkpOutput) out = wkp_output_new ();
    FILE *fp = wkp_output_add_file (out, path, &error);
    g_assert_nonnull (fp);
    for (int i = 0; i < 100000; i++)   /* more than one stdio buffer */
      fprintf (fp, "%d\n", i);
    g_assert_true (wkp_output_finish_file (out, fp, &error));
    g_assert_no_error (error);
    g_assert_true (wkp_output_commit (out, &error));
    g_assert_no_error (error);
  }
  {
    g_autofree char *c = NULL;
    gsize len;
    g_assert_true (g_file_get_contents (path, &c, &len, NULL));
    g_assert_true (g_str_has_prefix (c, "0\n1\n2\n"));
    g_assert_true (g_str_has_suffix (c, "\n99998\n99999\n"));
    g_assert_cmpuint (len, ==, 588890);
    g_assert_true (wkp_write_file_atomic (path, old, &error));
  }
  g_assert_false (wkp_check_output_path ("/nonexistent-dir/x.npy", &error));
  g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (wkp_check_output_path (dir, &error));
  g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID);
  g_clear_error (&error);
  /* a folder nobody can create files in, even root (for whom access(W_OK)
   * says yes): caught before any work, not when committing */
  g_assert_false (wkp_check_output_path ("/proc/wkp-check.npy", &error));
  g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/proc/wkp-check.npy"));
  g_clear_error (&error);
  /* the writability probe leaves nothing behind */
  g_assert_true (wkp_check_output_path (path, &error));
  {
    GDir *d = g_dir_open (dir, 0, NULL);
    int n = 0;
    while (g_dir_read_name (d) != NULL)
      n++;
    g_dir_close (d);
    g_assert_cmpint (n, ==, 1);
  }
}

/* Opening problems are one line naming the file: missing, a folder, an
 * empty JSON file (json-glib parses "" to no root at all). */
static void
test_open_errors (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "missing.npy", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.json", NULL);
  g_autoptr(GError) error = NULL;
  WkpNpy *npy;
  JsonNode *node;

  npy = wkp_npy_load (missing, &error);
  g_assert_null (npy);
  g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_NOT_FOUND);
  {
    g_autofree char *want = g_strconcat (missing, ": no such file", NULL);
    g_assert_cmpstr (error->message, ==, want);
  }
  g_clear_error (&error);
  npy = wkp_npy_load (dir, &error);
  g_assert_null (npy);
  g_assert_nonnull (error);
  g_assert_true (g_str_has_prefix (error->message, dir));
  g_assert_nonnull (strstr (error->message, "is a folder"));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  node = wkp_json_load_file (empty, &error);
  g_assert_null (node);
  g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, empty));
  g_clear_error (&error);
  node = wkp_json_load_file (missing, &error);
  g_assert_null (node);
  g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_NOT_FOUND);
}

/* Doubles that json-glib would print as invalid JSON ("1e-10.0") come out
 * valid; strings are left alone. */
/* JSON has no infinity or NaN: they are written as null, so that the file
 * reads back (json-glib wrote "inf.0"). */
static void
test_json_non_finite (void)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *o;
  JsonArray *a;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "gain");
  json_builder_add_double_value (b, INFINITY);
  json_builder_set_member_name (b, "list");
  json_builder_begin_array (b);
  json_builder_add_double_value (b, 1.5);
  json_builder_add_double_value (b, NAN);
  json_builder_add_double_value (b, -INFINITY);
  json_builder_end_array (b);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  text = wkp_json_to_string (node, TRUE);
  g_test_message ("%s", text);
  g_assert_null (strstr (text, "inf"));
  g_assert_null (strstr (text, "nan"));
  g_assert_true (wkp_json_parser_load (p, text, strlen (text), &error));
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (p));
  g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (o, "gain")));
  a = json_object_get_array_member (o, "list");
  g_assert_cmpfloat (json_array_get_double_element (a, 0), ==, 1.5);
  g_assert_true (JSON_NODE_HOLDS_NULL (json_array_get_element (a, 1)));
  g_assert_true (JSON_NODE_HOLDS_NULL (json_array_get_element (a, 2)));
}

static void
test_json_numbers (void)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonObject *o;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "tiny");
  json_builder_add_double_value (b, 1e-10);
  json_builder_set_member_name (b, "huge");
  json_builder_add_double_value (b, 1e20);
  json_builder_set_member_name (b, "plain");
  json_builder_add_double_value (b, 0.25);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, "3e5.0 stays \"1e-2.0\"");
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  text = wkp_json_to_string (node, FALSE);
  g_test_message ("%s", text);
  g_assert_null (strstr (text, "e-10.0"));
  g_assert_nonnull (strstr (text, "3e5.0 stays"));
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  o = json_node_get_object (json_parser_get_root (p));
  g_assert_cmpfloat (json_object_get_double_member (o, "tiny"), ==, 1e-10);
  g_assert_cmpfloat (json_object_get_double_member (o, "huge"), ==, 1e20);
  g_assert_cmpfloat (json_object_get_double_member (o, "plain"), ==, 0.25);
  g_assert_cmpstr (json_object_get_string_member (o, "text"), ==, "3e5.0 stays \"1e-2.0\"");
  /* and Python's strict parser agrees */
  if (wkp_test_python (NULL) != NULL)
    {
      const char *argv[] = { "/usr/bin/python3", "-c", "import json,sys; json.loads(sys.argv[1])", text, NULL };
      int status;
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, NULL));
      g_assert_true (g_spawn_check_wait_status (status, NULL));
    }
}

/* JSON from files is parsed by a recursive parser: nesting deeper than
 * WKP_JSON_MAX_DEPTH is refused with a message instead of a stack overflow
 * (200,000 levels crashed before); brackets inside strings do not count. */
static void
test_json_depth (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "deep.json", NULL);
  g_autoptr(GError) error = NULL;
  GString *doc = g_string_new (NULL);

  for (int i = 0; i < 200000; i++)
    g_string_append_c (doc, '[');
  for (int i = 0; i < 200000; i++)
    g_string_append_c (doc, ']');
  g_assert_true (g_file_set_contents (path, doc->str, (gssize) doc->len, NULL));
  g_assert_null (wkp_json_load_file (path, &error));
  g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "deep.json"));
  g_assert_nonnull (strstr (error->message, "nested"));
  g_clear_error (&error);

  /* at the limit: parsed; and "[[[[" inside a string is text */
  g_string_truncate (doc, 0);
  g_string_append (doc, "{\"a\": \"[[[[[[[[{{{{\", \"b\": ");
  for (int i = 0; i < WKP_JSON_MAX_DEPTH - 1; i++)
    g_string_append_c (doc, '[');
  for (int i = 0; i < WKP_JSON_MAX_DEPTH - 1; i++)
    g_string_append_c (doc, ']');
  g_string_append (doc, "}");
  g_assert_true (g_file_set_contents (path, doc->str, (gssize) doc->len, NULL));
  {
    g_autoptr(JsonNode) node = wkp_json_load_file (path, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "a"), ==, "[[[[[[[[{{{{");
  }
  g_string_free (doc, TRUE);
}

/* json-glib stores integers in a gint64 without an overflow check (18446744073709551618
 * became 2, -18446744073709551614 became 2 too): such literals are refused with the byte
 * offset, while the int64 extremes, long fractions and exponents still parse. */
static void
test_json_big_integers (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "big.json", NULL);
  const char *bad[] = { "{\"level_gain\": -18446744073709551614}", "[1, 18446744073709551618]",
                        "{\"epoch\": 9223372036854775808}", "[-9223372036854775809]" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_true (g_file_set_contents (path, bad[i], -1, NULL));
      g_assert_null (wkp_json_load_file (path, &error));
      g_test_message ("%s: %s", bad[i], error->message);
      g_assert_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "big.json"));
      g_assert_nonnull (strstr (error->message, "does not fit in 64 bits"));
    }
  {
    g_autoptr(GError) error = NULL;
    const char *good = "{\"a\": [9223372036854775807, -9223372036854775808, 0.123456789012345678901234, "
                       "123456789012345678901234.5, 1e300, -2E-5, -0, 7], \"b\": \"99999999999999999999\"}";
    g_assert_true (g_file_set_contents (path, good, -1, NULL));
    g_autoptr(JsonNode) node = wkp_json_load_file (path, &error);
    g_assert_no_error (error);
    JsonArray *a = json_object_get_array_member (json_node_get_object (node), "a");
    g_assert_cmpint (json_array_get_int_element (a, 0), ==, G_MAXINT64);
    g_assert_cmpint (json_array_get_int_element (a, 1), ==, G_MININT64);
    g_assert_cmpfloat_with_epsilon (json_array_get_double_element (a, 3), 1.2345678901234568e23, 1e9);
    g_assert_cmpfloat (json_array_get_double_element (a, 4), ==, 1e300);
    g_assert_cmpint (json_array_get_int_element (a, 7), ==, 7);
  }
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/npy/roundtrip-numpy", test_roundtrip_numpy);
  g_test_add_func ("/npy/shapes", test_shapes);
  g_test_add_func ("/npy/unaligned-data", test_unaligned_data);
  g_test_add_func ("/npy/malformed", test_malformed);
  g_test_add_func ("/npy/atomic-output", test_atomic_output);
  g_test_add_func ("/npy/json-numbers", test_json_numbers);
  g_test_add_func ("/npy/json-non-finite", test_json_non_finite);
  g_test_add_func ("/npy/open-errors", test_open_errors);
  g_test_add_func ("/npy/json-depth", test_json_depth);
  g_test_add_func ("/npy/json-big-integers", test_json_big_integers);
  return g_test_run ();
}
