/* Translations of the studio: every user-visible string of the files in
 * po/POTFILES has a Brazilian Portuguese translation (not fuzzy), the
 * translation compiles with format checks, and every source file of the
 * studio that marks strings for translation is listed in POTFILES.
 *
 * The catalogue is extracted afresh from the sources with xgettext (GLib's
 * keywords, as i18n.gettext(preset: 'glib') does), so adding a string in
 * code without translating it fails this test. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "wkp-config.h"
#include "wkp-test-util.h"

static gboolean
have_program (const char *name)
{
  g_autofree char *path = g_find_program_in_path (name);
  return path != NULL;
}

static char *
run (const char * const *argv, int expect_status)
{
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  g_assert_true (g_spawn_sync (WKP_SOURCE_DIR, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  if (expect_status >= 0 && !(g_spawn_check_wait_status (status, NULL) == (expect_status == 0)))
    g_error ("%s failed: %s", argv[0], err);
  return out;
}

static char **
potfiles (void)
{
  g_autofree char *path = g_build_filename (WKP_SOURCE_DIR, "po", "POTFILES", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *files = g_ptr_array_new ();
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i] != NULL; i++)
    {
      char *l = g_strstrip (lines[i]);
      if (*l != '\0' && *l != '#')
        g_ptr_array_add (files, g_strdup (l));
    }
  g_ptr_array_add (files, NULL);
  return (char **) g_ptr_array_free (files, FALSE);
}

static char *
extract_pot (const char *dir)
{
  g_auto(GStrv) files = potfiles ();
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  char *pot = g_build_filename (dir, "wav2kp.pot", NULL);
  g_autofree char *out = NULL;
  static const char *args[] = {
    "xgettext", "--from-code=UTF-8", "--add-comments=TRANSLATORS:",
    "--keyword=_", "--keyword=N_", "--keyword=C_:1c,2", "--keyword=NC_:1c,2",
    "--keyword=g_dcgettext:2", "--keyword=g_dngettext:2,3", "--keyword=g_dpgettext2:2c,3",
    "--flag=N_:1:pass-c-format", "--flag=C_:2:pass-c-format", "--flag=NC_:2:pass-c-format",
    "--flag=g_dngettext:2:pass-c-format", "--flag=g_strdup_printf:1:c-format",
    "--flag=g_string_printf:2:c-format", "--flag=g_string_append_printf:2:c-format",
    "--flag=g_error_new:3:c-format", "--flag=g_set_error:4:c-format",
  };
  if (!have_program ("xgettext"))
    {
      g_test_skip ("xgettext (gettext) is not installed");
      g_free (pot);
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (args); i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, "-o");
  g_ptr_array_add (argv, pot);
  for (int i = 0; files[i] != NULL; i++)
    g_ptr_array_add (argv, files[i]);
  g_ptr_array_add (argv, NULL);
  out = run ((const char * const *) argv->pdata, 0);
  return pot;
}

/* msgids of the entries in @po selected by msgattrib @filter */
static char *
select_entries (const char *po, const char *filter)
{
  const char *argv[] = { "msgattrib", filter, "--no-wrap", "--no-location", po, NULL };
  return run (argv, 0);
}

static void
test_complete (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *pot = extract_pot (dir);
  g_autofree char *po = g_build_filename (WKP_SOURCE_DIR, "po", "pt_BR.po", NULL);
  g_autofree char *merged = g_build_filename (dir, "merged.po", NULL);
  g_autofree char *untranslated = NULL, *fuzzy = NULL, *obsolete = NULL, *pot_text = NULL;
  g_autofree char *out = NULL;
  int n_ids = 0;

  if (pot == NULL)
    return;
  g_assert_true (g_file_get_contents (pot, &pot_text, NULL, NULL));
  for (const char *p = pot_text; (p = strstr (p, "\nmsgid ")) != NULL; p++)
    n_ids++;
  g_test_message ("%d strings extracted from po/POTFILES", n_ids - 1);
  g_assert_cmpint (n_ids, >, 50);   /* the extraction itself worked */

  {
    const char *argv[] = { "msgmerge", "--quiet", "--no-fuzzy-matching", "-o", merged, po, pot, NULL };
    out = run (argv, 0);
  }
  untranslated = select_entries (merged, "--untranslated");
  fuzzy = select_entries (merged, "--only-fuzzy");
  /* msgattrib prints nothing (or only the header) when nothing matches */
  if (strstr (untranslated, "\nmsgid ") != NULL)
    g_error ("strings without a pt_BR translation (add them to po/pt_BR.po):\n%s", untranslated);
  if (strstr (fuzzy, "\nmsgid ") != NULL)
    g_error ("fuzzy pt_BR translations:\n%s", fuzzy);
  /* obsolete entries (#~) are strings removed from the code */
  obsolete = select_entries (merged, "--only-obsolete");
  if (strstr (obsolete, "#~ msgid") != NULL)
    g_test_message ("obsolete entries in po/pt_BR.po:\n%s", obsolete);
}

static void
test_compiles (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *mo = g_build_filename (dir, "pt_BR.mo", NULL);
  g_autofree char *po = g_build_filename (WKP_SOURCE_DIR, "po", "pt_BR.po", NULL);
  g_autofree char *out = NULL, *back = NULL;
  /* --check: formats (%s, %lld) agree between msgid and msgstr, header ok */
  const char *argv[] = { "msgfmt", "--check", "-o", mo, po, NULL };
  const char *unf[] = { "msgunfmt", mo, NULL };

  if (!have_program ("msgfmt"))
    {
      g_test_skip ("msgfmt (gettext) is not installed");
      return;
    }
  out = run (argv, 0);
  back = run (unf, 0);
  /* a known string made it into the compiled catalogue */
  g_assert_nonnull (strstr (back, "msgstr \"Extraído\""));
  g_assert_nonnull (strstr (back, "quadro %lld de %lld"));
}

/* Files under app/studio, widgets and ui that mark strings are in POTFILES. */
static void
test_potfiles_complete (void)
{
  static const char *dirs[] = { "app/studio", "widgets", "ui", "ui/gtk", "data" };
  g_auto(GStrv) listed = potfiles ();

  for (guint d = 0; d < G_N_ELEMENTS (dirs); d++)
    {
      g_autofree char *path = g_build_filename (WKP_SOURCE_DIR, dirs[d], NULL);
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      if (dir == NULL)
        continue;
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *file = g_build_filename (path, name, NULL);
          g_autofree char *rel = g_build_filename (dirs[d], name, NULL);
          g_autofree char *text = NULL;
          gboolean marks;
          if (!g_str_has_suffix (name, ".c") && !g_str_has_suffix (name, ".ui") &&
              !g_str_has_suffix (name, ".in") && !g_str_has_suffix (name, ".gschema.xml"))
            continue;
          if (!g_file_get_contents (file, &text, NULL, NULL))
            continue;
          marks = strstr (text, "_(\"") != NULL || strstr (text, "translatable=\"yes\"") != NULL ||
                  g_str_has_suffix (name, ".in") || g_str_has_suffix (name, ".gschema.xml");
          if (marks && !g_strv_contains ((const char * const *) listed, rel))
            g_error ("%s marks strings for translation but is not listed in po/POTFILES", rel);
        }
    }
}

/* The studio speaks Portuguese when asked, also run from the build tree
 * (it used to look only where the catalogue is installed). */
static void
test_runtime (void)
{
  const char *studio = g_getenv ("WKP_STUDIO");
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_auto(GStrv) env = NULL;
  int status = 0;

  if (studio == NULL)
    {
      g_test_skip ("WKP_STUDIO is not set (run through meson test)");
      return;
    }
  env = g_get_environ ();
  env = g_environ_setenv (env, "LANGUAGE", "pt_BR", TRUE);
  env = g_environ_setenv (env, "LC_ALL", "C.UTF-8", TRUE);
  g_assert_true (g_spawn_sync (NULL, (char *[]) { (char *) studio, "--help", NULL }, env, G_SPAWN_DEFAULT, NULL,
                               NULL, &out, &err, &status, &error));
  g_assert_no_error (error);
  g_test_message ("%s", out);
  g_assert_nonnull (strstr (out, "Mostra o vídeo de um clipe"));
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/studio-i18n/pt_BR-complete", test_complete);
  g_test_add_func ("/studio-i18n/pt_BR-compiles", test_compiles);
  g_test_add_func ("/studio-i18n/potfiles-complete", test_potfiles_complete);
  g_test_add_func ("/studio-i18n/runtime", test_runtime);
  return g_test_run ();
}
