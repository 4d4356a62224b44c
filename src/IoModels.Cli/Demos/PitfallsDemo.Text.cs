using static IoModels.Cli.Demos.DemoContext;

namespace IoModels.Cli.Demos;

internal sealed partial class PitfallsDemo
{
    /// <summary>Every sentence of this demo, in English and Chinese.</summary>
    private static class Text
    {
        public static string Title(bool zh) => zh
            ? "笔记里脚本的五个经典错误：逐一重现、测量，再用本套件的引擎跑同样的负载"
            : "the notes' scripts' five classic mistakes: each reproduced and measured, then the engine on the same load";

        public static string Question(bool zh, TimeSpan hold, int crowd) => zh
            ? $"笔记的非阻塞服务器上连着一个 {F(hold.TotalSeconds)} s 不说话的客户端：下一个客户端的回显要等多久？" +
                $"服务器忙着、没有 accept 时，{crowd} 个客户端同时连 listen(5)：有几个能马上连上？"
            : $"The notes' non-blocking server has a client connected that says nothing for {F(hold.TotalSeconds)} s: how long does the next " +
                $"client wait for its echo? And while a server is busy and not accepting, how many of {crowd} clients connecting to listen(5) get in at once?";

        public static string Answer(bool zh, IReadOnlyDictionary<string, double> n) => zh
            ? $"下一个客户端等了 {F(n["a_notes_b_wait_s"])} s（引擎：{Ms(n["a_engine_b_wait_s"])}）；listen(5) 马上接住了 {n["crowd"]} 个中的 " +
                $"{n["e_listen5_in_hold"]} 个（listen({n["engine_backlog"]})：{n["e_big_backlog_in_hold"]} 个）。"
            : $"The next client waited {F(n["a_notes_b_wait_s"])} s (the engine: {Ms(n["a_engine_b_wait_s"])}); listen(5) let in " +
                $"{n["e_listen5_in_hold"]} of {n["crowd"]} at once (listen({n["engine_backlog"]}): {n["e_big_backlog_in_hold"]}).";

        public static string SilentPlan(bool zh, TimeSpan hold) => zh
            ? $"(a) 笔记 1.2 的非阻塞服务器：监听套接字设成了非阻塞，accept 返回的连接却是阻塞的。客户端 A 连上后一言不发" +
                $" {F(hold.TotalSeconds)} s，客户端 B 发一行。"
            : $"(a) The notes' non-blocking server (1.2): the listener is non-blocking, the sockets accept returns are not. " +
                $"Client A connects and stays silent for {F(hold.TotalSeconds)} s; client B sends a line.";

        public static string SilentMeasured(bool zh, double notes, double engine) => zh
            ? $"    笔记的脚本：B 等了 {F(notes)} s 才收到回显（整个循环阻塞在 A 的 recv 上）；nonblocking 引擎：{F(engine * 1000, "0.#")} ms。"
            : $"    The notes' script: B waited {F(notes)} s for its echo (the whole loop sat in A's recv); the nonblocking engine: " +
                $"{F(engine * 1000, "0.#")} ms.";

        public static string LeaverPlan(bool zh) => zh
            ? "(b)(c)(e) 笔记 1.3 的 select 服务器。(b) 客户端 C 发一行；另一个客户端发出 \"bye\" 后立刻离开；然后 C 再发一行。"
            : "(b)(c)(e) The notes' select server (1.3). (b) Client C sends a line; another client sends \"bye\" and leaves at once; " +
                "then C sends again.";

        public static string LeaverNotes(bool zh, string death, bool served) => zh
            ? $"    笔记的脚本：{(death.Length > 0 ? $"循环抛出 {death}，崩溃了" : "循环没有崩溃")}；C 的第二行" +
                $"{(served ? "得到了回显" : "没有得到回显")}。"
            : $"    The notes' script: {(death.Length > 0 ? $"the loop died of {death}" : "the loop went on")}; C's second line " +
                $"{(served ? "was echoed" : "was never echoed")}.";

        public static string LeaverEngine(bool zh, bool served) => zh
            ? $"    select 引擎：C 的第二行{(served ? "得到了回显" : "没有得到回显")}。"
            : $"    The select engine: C's second line {(served ? "was echoed" : "was never echoed")}.";

        public static string TwicePlan(bool zh, int bytes) => zh
            ? $"(c) 一个客户端先后发出两行，各 {bytes} 字节（一行全是 a，一行全是 b），都在服务器轮到写它之前到达。"
            : $"(c) A client sends two lines of {bytes} bytes each ('a's, then 'b's), both there before the server's turn to write to it.";

        public static string TwiceMeasured(bool zh, Dictionary<string, double> n, int sent) => zh
            ? $"    笔记的脚本：发出 {sent} 字节，收回 {n["c_notes_bytes_back"]} 字节；第一行的回显{Came(zh, n["c_notes_first_echoed"])}，" +
                $"第二行的{Came(zh, n["c_notes_second_echoed"])}。select 引擎：收回 {n["c_engine_bytes_back"]} 字节，第一行{Came(zh, n["c_engine_first_echoed"])}，" +
                $"第二行{Came(zh, n["c_engine_second_echoed"])}。"
            : $"    The notes' script: {sent} bytes sent, {n["c_notes_bytes_back"]} came back; the first line's echo " +
                $"{Came(zh, n["c_notes_first_echoed"])}, the second's {Came(zh, n["c_notes_second_echoed"])}. The select engine: " +
                $"{n["c_engine_bytes_back"]} back, first {Came(zh, n["c_engine_first_echoed"])}, second {Came(zh, n["c_engine_second_echoed"])}.";

        private static string Ms(double seconds) => F(seconds * 1000, "0") + " ms";

        private static string Came(bool zh, double echoed) => echoed == 1 ? (zh ? "回来了" : "came") : (zh ? "丢了" : "was lost");

        public static string ReadOncePlan(bool zh, int bytes) => zh
            ? $"(d) 笔记的客户端每发一次只调用一次 recv(1024)。它先发一行 {bytes} 字节，再发 \"hi\"；服务器是 select 引擎。"
            : $"(d) The notes' client calls recv(1024) once per send. It sends a {bytes}-byte line, then \"hi\"; the server is the select engine.";

        public static string ReadOnceMeasured(bool zh, Dictionary<string, double> n, int bytes) => zh
            ? $"    只读一次的客户端：第一次回复 {n["d_once_first_reply_bytes"]} 字节（应为 {bytes}），第二次回复" +
                $"{(n["d_once_second_reply_is_its_echo"] == 1 ? "是" : "不是")} \"HI\"。读完整个回显的客户端：{n["d_whole_first_reply_bytes"]} 字节，" +
                $"第二次回复{(n["d_whole_second_reply_is_its_echo"] == 1 ? "是" : "不是")} \"HI\"。"
            : $"    The read-once client: first reply {n["d_once_first_reply_bytes"]} bytes (of {bytes}), second reply " +
                $"{(n["d_once_second_reply_is_its_echo"] == 1 ? "was" : "was not")} \"HI\". The client that reads the whole echo: " +
                $"{n["d_whole_first_reply_bytes"]} bytes, second reply {(n["d_whole_second_reply_is_its_echo"] == 1 ? "was" : "was not")} \"HI\".";

        public static string CrowdPlan(bool zh, int crowd, TimeSpan hold, int backlog) => zh
            ? $"(e) {crowd} 个客户端同时连接，服务器忙了 {F(hold.TotalSeconds)} s 没有调用 accept：先是 listen(5)，再是 listen({backlog})，" +
                "最后是 select 引擎。"
            : $"(e) {crowd} clients connect at once while the server is busy for {F(hold.TotalSeconds)} s and calls no accept: " +
                $"first with listen(5), then listen({backlog}), then the select engine.";

        public static string CrowdMeasured(bool zh, Dictionary<string, double> n, int backlog) => zh
            ? $"    忙碌期间完成 connect 的：listen(5) {n["e_listen5_in_hold"]} 个，listen({backlog}) {n["e_big_backlog_in_hold"]} 个，" +
                $"引擎 {n["e_engine_in_hold"]} 个（共 {n["crowd"]} 个）。{Rest(zh, n)}"
            : $"    Connects completed while busy: listen(5) {n["e_listen5_in_hold"]}, listen({backlog}) {n["e_big_backlog_in_hold"]}, " +
                $"the engine {n["e_engine_in_hold"]} (of {n["crowd"]}). {Rest(zh, n)}";

        /// <summary>What became of listen(5)'s crowd once the server accepted: all in, after how long, or how many still out.</summary>
        private static string Rest(bool zh, IReadOnlyDictionary<string, double> n) => n["e_listen5_still_waiting"] == 0
            ? zh ? $"listen(5) 开始 accept 之后，其余的在 {Ms(n["e_listen5_rest_s"])} 内全部连上（内核重发了它们的 SYN）。"
                : $"Once listen(5)'s server accepted, the rest were all in after {Ms(n["e_listen5_rest_s"])} (the kernel resent their SYNs)."
            : zh ? $"listen(5) 开始 accept {F(n["e_window_s"])} s 之后，仍有 {n["e_listen5_still_waiting"]} 个在等内核重发 SYN。"
                : $"{F(n["e_window_s"])} s after listen(5)'s server began to accept, {n["e_listen5_still_waiting"]} were still waiting for the kernel to resend their SYN.";

        public static string NotesNotStalled(bool zh, double wait, double hold) => zh
            ? $"(a) 笔记的脚本让 B 只等了 {F(wait)} s，A 却沉默了 {F(hold)} s：没有测出卡住"
            : $"(a) the notes' script answered B after {F(wait)} s while A was silent for {F(hold)} s: no stall measured";

        public static string EngineStalled(bool zh, string model, double wait, double hold) => zh
            ? $"(a) {model} 引擎让 B 等了 {F(wait)} s（A 沉默 {F(hold)} s）"
            : $"(a) the {model} engine made B wait {F(wait)} s (A silent for {F(hold)} s)";

        public static string NotesSurvived(bool zh) => zh
            ? "(b) 笔记的 select 循环在客户端离开后没有死，或者仍然服务了 C"
            : "(b) the notes' select loop did not die when the client left, or still served C";

        public static string EngineLostOther(bool zh) => zh
            ? "(b) 客户端离开后，select 引擎没有回显 C 的下一行"
            : "(b) the select engine did not echo C's next line after the other client left";

        public static string NotesKeptBoth(bool zh, double bytes) => zh
            ? $"(c) 笔记的脚本收回了 {bytes} 字节，第一行的回显没有丢"
            : $"(c) the notes' script sent back {bytes} bytes and the first line's echo was not lost";

        public static string EngineLostLine(bool zh, double bytes) => zh
            ? $"(c) select 引擎只收回 {bytes} 字节，没有两行都回显"
            : $"(c) the select engine sent back {bytes} bytes, not both lines' echoes";

        public static string OnceGotAll(bool zh, double bytes) => zh
            ? $"(d) 只读一次的客户端第一次就收到了 {bytes} 字节，第二次回复也对得上"
            : $"(d) the read-once client got {bytes} bytes at once and its second reply matched";

        public static string WholeMissed(bool zh, double bytes) => zh
            ? $"(d) 读完整回显的客户端只收到 {bytes} 字节"
            : $"(d) the client that reads the whole echo got {bytes} bytes";

        public static string Listen5TookAll(bool zh, double inHold, double crowd) => zh
            ? $"(e) listen(5) 在忙碌期间也接住了全部 {crowd} 个中的 {inHold} 个连接"
            : $"(e) listen(5) completed {inHold} of {crowd} connects while busy: all of them";

        public static string BigBacklogShort(bool zh, double big, double engine, double crowd) => zh
            ? $"(e) 大的 backlog 在忙碌期间只完成了 {big} 个，引擎 {engine} 个（共 {crowd} 个）"
            : $"(e) the large backlog completed {big} and the engine {engine} of {crowd} connects while busy";

        public static string Conclusion(bool zh, IReadOnlyDictionary<string, double> n, int longLine) => zh
            ? $"(a) 一个沉默的客户端让笔记的非阻塞循环停了 {F(n["a_notes_b_wait_s"])} s，所有人都跟着等；nonblocking 引擎把接受的套接字设为非阻塞，" +
                $"B 只等了 {F(n["a_engine_b_wait_s"] * 1000, "0.#")} ms。(b) 一个客户端离开，笔记的 select 循环就死了，留下的 C 再也得不到回显；" +
                $"select 引擎照常服务 C。(c) 两行先后到达，笔记的脚本只回显了 {n["c_notes_bytes_back"]} 字节：第一行被 wdata[sock] 覆盖；" +
                $"引擎把两行都追加进输出缓冲区，{n["c_engine_bytes_back"]} 字节全部回来。(d) 每发一次只 recv(1024) 一次的客户端，" +
                $"{longLine} 字节的回显只拿到 {n["d_once_first_reply_bytes"]} 字节，剩下的被当成了下一行的回复；读到够数为止的客户端两次都对。" +
                $"(e) 服务器忙的时候，listen(5) 只接住了 {n["crowd"]} 个连接中的 {n["e_listen5_in_hold"]} 个，其余的要等内核重发 SYN：{Rest(zh, n)}" +
                $"listen({n["engine_backlog"]}) 和引擎在同样的时间里接住了全部。" +
                "每一条对应引擎里的哪一行：iomodels explain pitfalls --lang zh。"
            : $"(a) One silent client held the notes' non-blocking loop for {F(n["a_notes_b_wait_s"])} s, and everyone waited; the nonblocking " +
                $"engine makes each accepted socket non-blocking and answered B in {F(n["a_engine_b_wait_s"] * 1000, "0.#")} ms. " +
                $"(b) One client leaving killed the notes' select loop, and C, still connected, got no echo again; the select engine served C. " +
                $"(c) Of two lines that arrived together the notes' script echoed {n["c_notes_bytes_back"]} bytes: wdata[sock] replaced the first; " +
                $"the engine appends both to the connection's output buffer and returned all {n["c_engine_bytes_back"]}. " +
                $"(d) A client that calls recv(1024) once per send got {n["d_once_first_reply_bytes"]} bytes of a {longLine}-byte echo and " +
                $"took the rest for the next line's reply; a client that reads until it has them all got both right. " +
                $"(e) While the server was busy, listen(5) held {n["e_listen5_in_hold"]} of {n["crowd"]} connects and the rest waited for the " +
                $"kernel to resend their SYN. {Rest(zh, n)} With listen({n["engine_backlog"]}), and with the engine, every one got in while busy. " +
                "Which line of the engine prevents each: iomodels explain pitfalls.";
    }
}
