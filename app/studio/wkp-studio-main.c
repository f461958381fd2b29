/* wav2kp-studio: the GTK 4 desktop app. */
#include <glib/gi18n.h>
#include <locale.h>

#include "wkp-config.h"
#include "wkp-studio-app.h"

/* The installed catalogs, else the build tree's (an uninstalled run, like
 * the shipped model from the source tree): pt_BR is the one we ship. */
static const char *
locale_dir (void)
{
  g_autofree char *installed = g_build_filename (WKP_LOCALEDIR, "pt_BR", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
  g_autofree char *built = g_build_filename (WKP_BUILD_DIR, "po", "pt_BR", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
  if (!g_file_test (installed, G_FILE_TEST_IS_REGULAR) && g_file_test (built, G_FILE_TEST_IS_REGULAR))
    return WKP_BUILD_DIR "/po";
  return WKP_LOCALEDIR;
}

int
main (int argc, char **argv)
{
  g_autoptr(WkpStudioApp) app = NULL;

  wkp_studio_app_set_start_time (g_get_monotonic_time ());
  wkp_studio_choose_settings_backend ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, locale_dir ());
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_application_name (_("wav2kp Studio"));

  app = wkp_studio_app_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
