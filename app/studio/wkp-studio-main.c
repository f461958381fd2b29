/* wav2kp-studio: the GTK 4 desktop app. */
#include <glib/gi18n.h>
#include <locale.h>

#include "wkp-config.h"
#include "wkp-studio-app.h"

int
main (int argc, char **argv)
{
  g_autoptr(WkpStudioApp) app = NULL;

  wkp_studio_app_set_start_time (g_get_monotonic_time ());
  wkp_studio_choose_settings_backend ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, WKP_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_application_name (_("wav2kp Studio"));

  app = wkp_studio_app_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
