/* A stand-in for bcryptprimitives.dll, which Wine 8 lacks and which the
 * Rust standard library imports `ProcessPrng` from. Built and installed into
 * the Wine prefix by ../windows.sh; never shipped. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
