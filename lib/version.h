/* The one place shoal's version is spelled: shoald, the plugin and netctl all report this. */
#pragma once

#define SHOAL_VERSION "0.2.0"
