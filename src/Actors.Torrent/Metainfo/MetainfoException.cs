namespace Actors.Torrent.Metainfo;

/// <summary>A .torrent file is malformed, unsafe or exceeds our limits.</summary>
public sealed class MetainfoException : Exception
{
    public MetainfoException(string message) : base(message)
    {
    }

    public MetainfoException(string message, Exception inner) : base(message, inner)
    {
    }
}
