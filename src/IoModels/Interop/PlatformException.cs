using System.Runtime.InteropServices;

namespace IoModels;

/// <summary>A failed native call: the call's name, errno, and the OS's message for it.</summary>
public sealed class PlatformException : Exception
{
    public PlatformException(string call, int errno)
        : base($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
    {
        Call = call;
        Errno = errno;
    }

    public PlatformException()
    {
        Call = string.Empty;
    }

    public PlatformException(string message)
        : base(message)
    {
        Call = string.Empty;
    }

    public PlatformException(string message, Exception innerException)
        : base(message, innerException)
    {
        Call = string.Empty;
    }

    /// <summary>The native function that failed, e.g. <c>epoll_ctl</c>.</summary>
    public string Call { get; }

    /// <summary>The errno it set.</summary>
    public int Errno { get; }

    /// <summary>Throws for the errno the last native call set.</summary>
    public static PlatformException FromLastError(string call) => new(call, Marshal.GetLastPInvokeError());
}
