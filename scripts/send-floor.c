// The kernel's floor under one delivery (docs/benchmarks.md, "The hand-written transport"): N
// loopback TCP sockets, one send() of SIZE bytes to each, ROUNDS rounds 200 ms apart; prints the
// sender's CPU (user + sys, getrusage) per send. The receiver is a child process on core 1 that reads
// everything with epoll, as the load tool does; on loopback the kernel delivers each segment into the
// receiver's socket in the sender's context, so this is what any server pays per socket per broadcast.
//   gcc -O2 -o /tmp/send-floor scripts/send-floor.c && taskset -c 0 /tmp/send-floor 5000 5500 10
#define _GNU_SOURCE
#include <sched.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <fcntl.h>
static double cpu(void){struct rusage u;getrusage(RUSAGE_SELF,&u);return u.ru_utime.tv_sec+u.ru_utime.tv_usec/1e6+u.ru_stime.tv_sec+u.ru_stime.tv_usec/1e6;}
int main(int argc,char**argv){int n=atoi(argv[1]),size=atoi(argv[2]),rounds=atoi(argv[3]);
 int l=socket(AF_INET,SOCK_STREAM,0);int one=1;setsockopt(l,SOL_SOCKET,SO_REUSEADDR,&one,4);
 struct sockaddr_in a={0};a.sin_family=AF_INET;a.sin_addr.s_addr=htonl(0x7f000001);a.sin_port=0;bind(l,(void*)&a,sizeof a);listen(l,65535);
 socklen_t al=sizeof a;getsockname(l,(void*)&a,&al);
 pid_t child=fork();
 if(child==0){ cpu_set_t s;CPU_ZERO(&s);CPU_SET(1,&s);sched_setaffinity(0,sizeof s,&s);
   int ep=epoll_create1(0);int*fds=malloc(n*sizeof(int));
   for(int i=0;i<n;i++){fds[i]=socket(AF_INET,SOCK_STREAM,0);if(connect(fds[i],(void*)&a,sizeof a)){perror("connect");exit(1);}fcntl(fds[i],F_SETFL,O_NONBLOCK);struct epoll_event e={.events=EPOLLIN,.data.fd=fds[i]};epoll_ctl(ep,EPOLL_CTL_ADD,fds[i],&e);}
   long want=(long)n*size*rounds,got=0;char buf[65536];struct epoll_event ev[256];
   while(got<want){int k=epoll_wait(ep,ev,256,5000);if(k<=0)break;for(int j=0;j<k;j++){ssize_t r;while((r=read(ev[j].data.fd,buf,sizeof buf))>0)got+=r;}}
   exit(got==want?0:2);}
 int*c=malloc(n*sizeof(int));for(int i=0;i<n;i++){c[i]=accept(l,0,0);setsockopt(c[i],IPPROTO_TCP,TCP_NODELAY,&one,4);}
 char*frame=malloc(size);memset(frame,'x',size);
 double t0=cpu();
 for(int r=0;r<rounds;r++){for(int i=0;i<n;i++){if(send(c[i],frame,size,0)!=size){perror("send");return 1;}} usleep(200000);}
 double t1=cpu();int st;waitpid(child,&st,0);
 printf("n=%d size=%d rounds=%d: sender CPU per send %.2f us (receiver exit %d)\n",n,size,rounds,(t1-t0)*1e6/((double)n*rounds),WEXITSTATUS(st));}
