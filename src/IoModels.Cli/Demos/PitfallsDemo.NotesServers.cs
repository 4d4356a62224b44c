using System.Net;
using System.Net.Sockets;

namespace IoModels.Cli.Demos;

internal sealed partial class PitfallsDemo
{
    /// <summary>
    /// A server loop from the notes, rendered in C# line for line, mistakes included, each line
    /// commented with the Python it stands for. It runs on a thread of its own so that the demo can
    /// watch it get stuck or die; it is never an engine, and nothing else uses it. The listener is
    /// bound at construction (clients may connect at once; the kernel queues them) and the loop starts
    /// only at <see cref="Start"/>, so the demo can have a client's bytes waiting before the loop looks.
    /// </summary>
    private abstract class NotesServer : IDisposable
    {
        /// <summary>How long stopping may take: a loop in select's 0.5 s timeout returns well within it.</summary>
        private static readonly TimeSpan JoinLimit = TimeSpan.FromSeconds(5);

        private readonly Thread _thread;
        private readonly TaskCompletionSource<Exception?> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<Socket> _accepted = [];
        private volatile bool _stopping;

        protected NotesServer(int backlog)
        {
            Server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Server.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // server.bind(('127.0.0.1', 8099)), port 0 here
            Server.Listen(backlog);                              // server.listen(5)
            EndPoint = (IPEndPoint)Server.LocalEndPoint!;
            _thread = new Thread(Run) { IsBackground = true, Name = GetType().Name };
        }

        public IPEndPoint EndPoint { get; }

        /// <summary>Completes when the loop ends: with the exception that killed it, or null when the demo stopped it.</summary>
        public Task<Exception?> Ended => _ended.Task;

        protected Socket Server { get; }

        protected bool Stopping => _stopping;

        public void Start() => _thread.Start();

        /// <summary>The script's loop, as the notes wrote it.</summary>
        protected abstract void Loop();

        /// <summary>Keeps an accepted socket so that stopping can close it; the script itself never would.</summary>
        protected Socket Keep(Socket connection)
        {
            lock (_accepted)
            {
                _accepted.Add(connection);
            }

            return connection;
        }

        /// <summary>recv(1024): at most 1,024 bytes, uppercased as data.upper() does.</summary>
        protected static byte[] Recv1024(Socket socket)
        {
            byte[] buffer = new byte[1024];
            int received = socket.Receive(buffer);
            byte[] data = buffer[..received];
            AsciiUpper.ToUpperInPlace(data);
            return data;
        }

        private void Run()
        {
            try
            {
                Loop();
                _ended.TrySetResult(null);
            }
            catch (Exception) when (_stopping)
            {
                // Expected: stopping closed the listener and the sockets under the loop; that ending is ours, not the script's.
                _ended.TrySetResult(null);
            }
            catch (Exception e)
            {
                // The script's own crash, which is what the demo measures: kept, not rethrown, so that this
                // thread ends as the Python process would, and the demo's process goes on to say so.
                _ended.TrySetResult(e);
            }
        }

        public void Dispose()
        {
            _stopping = true;
            Server.Dispose();
            lock (_accepted)
            {
                foreach (Socket socket in _accepted)
                {
                    socket.Dispose();
                }
            }

            if (_thread.ThreadState != ThreadState.Unstarted && !_thread.Join(JoinLimit))
            {
                throw new CliException(ExitCode.Failure, $"the notes' {_thread.Name} loop did not stop within {JoinLimit.TotalSeconds:0} s");
            }
        }
    }

    /// <summary>
    /// The notes' non-blocking server (1.2). Its mistake: the listener is non-blocking, but what accept
    /// returns is not (Python's accept gives a blocking socket, as accept(2) on Linux does), so the
    /// first connected client that sends nothing holds the whole loop inside its recv.
    /// </summary>
    private sealed class NotesNonBlockingServer() : NotesServer(backlog: 5)
    {
        protected override void Loop()
        {
            Server.Blocking = false;                                     // server.setblocking(False)
            var rlist = new List<Socket>();                              // rlist=[]
            var wlist = new List<(Socket Sock, byte[] Data)>();          // wlist=[]
            while (!Stopping)                                            // while True:
            {
                try
                {
                    Socket conn = Keep(Server.Accept());                 //     conn, addr = server.accept()
                    conn.Blocking = true;                                //     (what Python hands back: a blocking socket)
                    rlist.Add(conn);                                     //     rlist.append(conn)
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock) // except BlockingIOError:
                {
                    var delRlist = new List<Socket>();
                    foreach (Socket sock in rlist)                       //     for sock in rlist:
                    {
                        try
                        {
                            byte[] data = Recv1024(sock);                //         data=sock.recv(1024)  <- blocks: sock is blocking
                            if (data.Length == 0)
                            {
                                delRlist.Add(sock);                      //         if not data: del_rlist.append(sock)
                            }

                            wlist.Add((sock, data));                     //         wlist.append((sock,data.upper()))
                        }
                        catch (SocketException r) when (r.SocketErrorCode == SocketError.WouldBlock)
                        {
                            continue;                                    //         except BlockingIOError: continue (never: see above)
                        }
                        catch (SocketException)
                        {
                            sock.Close();                                //         except Exception: sock.close()
                            delRlist.Add(sock);
                        }
                    }

                    var delWlist = new List<(Socket, byte[])>();
                    foreach ((Socket sock, byte[] data) item in wlist)  //     for item in wlist:
                    {
                        try
                        {
                            item.sock.Send(item.data);                   //         sock.send(data)
                            delWlist.Add(item);
                        }
                        catch (SocketException s) when (s.SocketErrorCode == SocketError.WouldBlock)
                        {
                            // except BlockingIOError: pass (the script's own choice: try again next sweep)
                        }
                    }

                    wlist.RemoveAll(delWlist.Contains);                  //     for item in del_wlist: wlist.remove(item)
                    rlist.RemoveAll(delRlist.Contains);                  //     for sock in del_rlist: rlist.remove(sock)
                }
            }
        }
    }

    /// <summary>
    /// The notes' select server (1.3). Two mistakes live in it: a socket closed in the read loop can
    /// still be in the write list of the same turn (the send then fails and nothing catches it), and
    /// <c>wdata[sock] = data</c> keeps one reply per socket, so a second read before the socket's write
    /// turn replaces the first reply (and leaves the socket twice in wlist, which later dies on a
    /// missing key).
    /// </summary>
    private sealed class NotesSelectServer(int backlog) : NotesServer(backlog)
    {
        protected override void Loop()
        {
            Server.Blocking = false;                                     // server.setblocking(False)
            var rlist = new List<Socket> { Server };                     // rlist=[server,]
            var wlist = new List<Socket>();                              // wlist=[]
            var wdata = new Dictionary<Socket, byte[]>();                // wdata={}
            while (!Stopping)                                            // while True:
            {
                var rl = new List<Socket>(rlist);
                var wl = new List<Socket>(wlist);
                Socket.Select(rl, wl, null, 500_000);                    //     rl,wl,xl=select.select(rlist,wlist,[],0.5)
                foreach (Socket sock in rl)                              //     for sock in rl:
                {
                    if (sock == Server)
                    {
                        rlist.Add(Keep(sock.Accept()));                  //         conn,addr=sock.accept(); rlist.append(conn)
                        continue;
                    }

                    try
                    {
                        byte[] data = Recv1024(sock);                    //         data=sock.recv(1024)
                        if (data.Length == 0)
                        {
                            sock.Close();                                //         if not data: sock.close()
                            rlist.Remove(sock);                          //             rlist.remove(sock); continue
                            continue;
                        }

                        wlist.Add(sock);                                 //         wlist.append(sock)
                        wdata[sock] = data;                              //         wdata[sock]=data.upper()  <- replaces
                    }
                    catch (SocketException)
                    {
                        sock.Close();                                    //         except Exception: sock.close()
                        rlist.Remove(sock);                              //             rlist.remove(sock)
                    }
                }

                foreach (Socket sock in wl)                              //     for sock in wl:
                {
                    sock.Send(wdata[sock]);                              //         sock.send(wdata[sock])  <- closed? missing?
                    wlist.Remove(sock);                                  //         wlist.remove(sock)
                    wdata.Remove(sock);                                  //         wdata.pop(sock)
                }
            }
        }
    }
}
